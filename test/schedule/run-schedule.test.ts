/**
 * runSchedule with stand-in jobs (no database): notify.repeat holds back the notifications of a job that keeps
 * failing, and recovery is still told once; the state file keeps the failure count across a restart, so a
 * recovery after a restart is told too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { runSchedule } from '../../runner/commands/schedule';
import type { RunContext } from '../../runner/context';
import { silentLogger } from '../../runner/log';

test('a job that keeps failing notifies once per notify.repeat; recovery is told once, across a restart too', async () => {
  const received: { reason: string; job: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body) as { reason: string; job: string });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-run-schedule-'));
  const config = path.join(dir, 'lifeboat.yaml');
  writeFileSync(
    config,
    `storage: ${dir}\nnotify:\n  repeat: 1h\n  webhook: [{ urlFromEnv: HOOK }]\nsources:\n  shop:\n    databaseUrlFromEnv: DB\n    jobs: { backup: { every: 1s } }\n`,
  );
  const env = { DB: 'postgres://app@127.0.0.1:1/shop', HOOK: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
  const sink = new Writable({ write: (_c, _e, cb) => cb() });

  /** Runs the daemon until `runs` runs ended, each ending as `outcome(n)` says. */
  async function daemon(runs: number, outcome: (n: number) => 0 | 1): Promise<void> {
    const controller = new AbortController();
    let n = 0;
    const ctx: RunContext = { env, stdout: sink, stderr: sink, logger: silentLogger(), now: () => new Date(), signal: controller.signal };
    await runSchedule({ configFile: config, metricsHost: '127.0.0.1' }, {
      ctx,
      runJob: async (_argv, jobCtx) => {
        const code = outcome(n++);
        await jobCtx.onFinalEvent?.({ event: code ? 'backup.failed' : 'backup.succeeded', severity: code ? 'error' : 'info', message: 'm', fields: { source: 'shop', errorCode: code ? 'db_unreachable' : undefined } });
        if (n >= runs) setImmediate(() => controller.abort());
        return code;
      },
    });
  }
  try {
    await daemon(3, () => 1);
    // Three failures in a row, one notification: the other two came within the hour.
    assert.deepEqual(received.map((r) => r.reason), ['failure']);
    // A restart: the first run succeeds, and the state file knows it follows failures.
    await daemon(1, () => 0);
    assert.deepEqual(received.map((r) => r.reason), ['failure', 'recovery']);
    assert.ok(received.every((r) => r.job === 'shop/backup'));
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});
