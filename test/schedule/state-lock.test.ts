/**
 * One scheduler per state file: a second daemon is refused before it runs anything, a lease whose daemon died
 * (no refresh) is taken over, and a daemon that loses its lease while running stops instead of running jobs a
 * second daemon may run too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { runSchedule } from '../../runner/commands/schedule';
import type { RunContext } from '../../runner/context';
import { isLifeboatError } from '../../runner/errors';
import { silentLogger } from '../../runner/log';

const sink = new Writable({ write: (_c, _e, cb) => cb() });

function setup(): { dir: string; config: string; lockDir: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-state-lock-'));
  const config = path.join(dir, 'lifeboat.yaml');
  writeFileSync(config, `storage: ${dir}\nstateFile: state.json\nsources:\n  shop:\n    databaseUrlFromEnv: DB\n    jobs: { backup: { every: 1h } }\n`);
  return { dir, config, lockDir: path.join(dir, 'state.json.lock') };
}

/** A daemon whose jobs only count their runs; stopped through the returned controller. */
function daemon(config: string, leaseMs?: number) {
  const controller = new AbortController();
  let runs = 0;
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const ctx: RunContext = { env: { DB: 'postgres://app@127.0.0.1:1/shop' }, stdout: sink, stderr: sink, logger: silentLogger(), now: () => new Date(), signal: controller.signal };
  const done = runSchedule({ configFile: config, metricsHost: '127.0.0.1', leaseMs, onStarted: () => started() }, {
    ctx,
    runJob: async (_argv, jobCtx) => {
      runs++;
      await jobCtx.onFinalEvent?.({ event: 'backup.succeeded', severity: 'info', message: 'm', fields: { source: 'shop' } });
      return 0;
    },
  });
  return { controller, done, running, runs: () => runs };
}

async function refusalOf(p: Promise<unknown>): Promise<{ code: string; message: string; hint?: string }> {
  try {
    await p;
  } catch (e) {
    assert.ok(isLifeboatError(e), String(e));
    assert.equal(e.exitCode, 1);
    return { code: e.code, message: e.message, hint: e.hint };
  }
  assert.fail('expected the daemon to be refused');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a second scheduler on the same state file is refused before it runs anything; after the first stops, one may start', async () => {
  const { dir, config, lockDir } = setup();
  try {
    const first = daemon(config);
    for (let i = 0; i < 200 && first.runs() === 0; i++) await sleep(10);
    assert.equal(first.runs(), 1, 'the interval job ran at start');
    assert.ok(existsSync(lockDir));

    const second = daemon(config);
    const refused = await refusalOf(second.done);
    assert.equal(refused.code, 'schedule_locked');
    assert.match(refused.message, /another scheduler holds .*state\.json\.lock \(refreshed \d+s ago\): two daemons on one state file would run every job twice/);
    assert.match(refused.hint ?? '', /frees itself 60s after its last refresh/);
    assert.equal(second.runs(), 0);

    first.controller.abort();
    await first.done;
    assert.ok(!existsSync(lockDir), 'the lease is given back at stop');
    const third = daemon(config);
    await third.running;
    third.controller.abort();
    await third.done;
    // It shares the state: the hourly job ran minutes ago, so it is not due.
    assert.equal(third.runs(), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the lease of a daemon that died (not refreshed for longer than the lease) is taken over', async () => {
  const { dir, config, lockDir } = setup();
  try {
    // What a SIGKILLed daemon leaves: the lock directory, last refreshed two minutes ago.
    mkdirSync(lockDir);
    const old = new Date(Date.now() - 120_000);
    utimesSync(lockDir, old, old);
    const d = daemon(config);
    for (let i = 0; i < 200 && d.runs() === 0; i++) await sleep(10);
    d.controller.abort();
    await d.done;
    assert.equal(d.runs(), 1);

    // A fresh one is not taken over.
    mkdirSync(lockDir);
    await refusalOf(daemon(config).done);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a daemon that loses its lease while running stops with schedule_lock_lost', async () => {
  const { dir, config, lockDir } = setup();
  try {
    const d = daemon(config, 3000);
    for (let i = 0; i < 200 && d.runs() === 0; i++) await sleep(10);
    // Someone removed the lock (or another host took it over): the next refresh notices.
    rmSync(lockDir, { recursive: true, force: true });
    const lost = await refusalOf(d.done);
    assert.equal(lost.code, 'schedule_lock_lost');
    assert.match(lost.message, /the lease on .*state\.json\.lock was lost while running/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
