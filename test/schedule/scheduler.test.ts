/**
 * The scheduler's loop with stand-in jobs: a job never overlaps itself, a failing or slow job never holds
 * another, a run missed while the daemon was down runs once at start, cron times follow their time zone, and
 * stopping lets a running job finish within the bound, then aborts it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { JobSpec } from '../../runner/schedule/config';
import { Scheduler, type JobOutcome } from '../../runner/schedule/scheduler';
import { ScheduleState } from '../../runner/schedule/state';
import { firstRun, nextOccurrence } from '../../runner/schedule/timing';
import { createLogger, silentLogger } from '../../runner/log';
import { Writable } from 'node:stream';

function job(id: string, every: number): JobSpec {
  return { id, source: id.split('/')[0]!, engine: 'postgres', kind: 'backup', timing: { every }, jitterMs: 0, argv: [], env: {} };
}

function stateFile(content?: unknown): string {
  const f = path.join(mkdtempSync(path.join(os.tmpdir(), 'lifeboat-state-')), 'state.json');
  if (content) writeFileSync(f, JSON.stringify(content));
  return f;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await sleep(20);
  assert.ok(cond(), `gave up waiting for ${what}`);
}

test('cron times follow their time zone, daylight saving included', () => {
  const berlin = { cron: '0 2 * * *', timezone: 'Europe/Berlin' };
  assert.equal(nextOccurrence(berlin, new Date('2026-03-28T12:00:00Z')).toISOString(), '2026-03-29T01:00:00.000Z');
  assert.equal(nextOccurrence(berlin, new Date('2026-03-29T12:00:00Z')).toISOString(), '2026-03-30T00:00:00.000Z');
  assert.equal(nextOccurrence({ every: 6 * 3600_000 }, new Date('2026-01-01T00:00:00Z')).toISOString(), '2026-01-01T06:00:00.000Z');
});

test('first runs: a missed occurrence runs at once; an interval job that never ran runs at start; a cron job waits', () => {
  const now = new Date('2026-06-10T12:00:00Z');
  const daily = { cron: '0 2 * * *', timezone: 'UTC' };
  assert.deepEqual(firstRun(daily, new Date('2026-06-09T02:00:00Z'), now), { at: now, missed: true });
  assert.deepEqual(firstRun(daily, new Date('2026-06-10T02:00:00Z'), now), { at: new Date('2026-06-11T02:00:00Z'), missed: false });
  assert.deepEqual(firstRun(daily, undefined, now), { at: new Date('2026-06-11T02:00:00Z'), missed: false });
  assert.deepEqual(firstRun({ every: 3600_000 }, undefined, now), { at: now, missed: false });
  assert.deepEqual(firstRun({ every: 3600_000 }, new Date('2026-06-10T11:30:00Z'), now), { at: new Date('2026-06-10T12:30:00Z'), missed: false });
});

test('a slow job never overlaps itself, and a failing job never holds another', async () => {
  const spans: Record<string, [number, number][]> = { 'slow/backup': [], 'bad/backup': [], 'quick/backup': [] };
  const running = new Set<string>();
  let overlaps = 0;
  const outcomes: [string, number, number][] = [];
  const s = new Scheduler([job('slow/backup', 40), job('bad/backup', 40), job('quick/backup', 40)], {
    state: ScheduleState.load(stateFile()),
    logger: silentLogger(),
    now: () => new Date(),
    runJob: async (j): Promise<JobOutcome> => {
      if (running.has(j.id)) overlaps++;
      running.add(j.id);
      const start = Date.now();
      try {
        if (j.id === 'slow/backup') await sleep(150);
        if (j.id === 'bad/backup') throw new Error('boom');
        return { exitCode: 0 };
      } finally {
        running.delete(j.id);
        spans[j.id]!.push([start, Date.now()]);
      }
    },
    onOutcome: (j, o, before) => void outcomes.push([j.id, o.exitCode, before]),
  });
  s.start();
  await until(() => spans['quick/backup']!.length >= 6 && spans['slow/backup']!.length >= 2 && spans['bad/backup']!.length >= 3, 'runs');
  await s.stop(5000);
  assert.equal(overlaps, 0);
  // The quick job kept its pace while the slow one ran: several quick runs within the first slow run.
  const firstSlow = spans['slow/backup']![0]!;
  assert.ok(spans['quick/backup']!.filter(([a]) => a >= firstSlow[0] && a < firstSlow[1]).length >= 2, JSON.stringify(spans));
  const bad = outcomes.filter(([id]) => id === 'bad/backup');
  assert.deepEqual(bad.slice(0, 3).map(([, code, before]) => [code, before]), [[1, 0], [1, 1], [1, 2]]);
});

test('a run missed while the daemon was down runs once at start, and its start is recorded', async () => {
  const file = stateFile({ version: 1, jobs: { 'shop/backup': { lastStartedAt: '2020-01-01T00:00:00.000Z', consecutiveFailures: 0 } } });
  const starts: string[] = [];
  const s = new Scheduler([{ ...job('shop/backup', 0), timing: { cron: '0 0 1 1 *', timezone: 'UTC' } }], {
    state: ScheduleState.load(file),
    logger: silentLogger(),
    now: () => new Date(),
    runJob: async (j) => {
      starts.push(j.id);
      return { exitCode: 0 };
    },
  });
  s.start();
  await until(() => ScheduleState.load(file).get('shop/backup').lastExitCode === 0, 'the missed run');
  await sleep(100);
  await s.stop(1000);
  assert.deepEqual(starts, ['shop/backup']);
  assert.ok(new Date(ScheduleState.load(file).get('shop/backup').lastStartedAt!).getFullYear() >= 2026);
});

test('stop lets a running job finish within the bound, and aborts one that overruns it', async () => {
  for (const [runMs, graceMs, aborted] of [
    [150, 5000, []],
    [60_000, 150, ['long/backup']],
  ] as const) {
    let finished = false;
    let sawAbort = false;
    const s = new Scheduler([job('long/backup', 3600_000)], {
      state: ScheduleState.load(stateFile()),
      logger: silentLogger(),
      now: () => new Date(),
      runJob: (_j, signal) =>
        new Promise((resolve) => {
          const t = setTimeout(() => {
            finished = true;
            resolve({ exitCode: 0 });
          }, runMs);
          signal.addEventListener('abort', () => {
            sawAbort = true;
            clearTimeout(t);
            resolve({ exitCode: 1 });
          });
        }),
    });
    s.start();
    await sleep(30);
    const r = await s.stop(graceMs);
    assert.deepEqual(r.aborted, aborted);
    assert.equal(finished, aborted.length === 0);
    assert.equal(sawAbort, aborted.length > 0);
  }
});

test('a cron job runs once per occurrence: a timer firing early never finds the same occurrence again', async () => {
  const logged: string[] = [];
  const logger = createLogger({ destination: new Writable({ write: (c, _e, cb) => void (logged.push(String(c)), cb()) }), pretty: false });
  const starts: number[] = [];
  const s = new Scheduler([{ ...job('tick/backup', 0), timing: { cron: '* * * * * *', timezone: 'UTC' } }], {
    state: ScheduleState.load(stateFile()),
    logger,
    now: () => new Date(),
    runJob: async () => {
      starts.push(Date.now());
      return { exitCode: 0 };
    },
  });
  s.start();
  await until(() => starts.length >= 3, 'three occurrences');
  await s.stop(1000);
  // One start per second: never two in the same second, and nothing skipped.
  const seconds = starts.map((t) => Math.floor(t / 1000));
  assert.equal(new Set(seconds).size, seconds.length, JSON.stringify(starts));
  assert.deepEqual(logged.filter((l) => l.includes('skipped')), []);
});
