/**
 * `--notify` on a one-shot command: a failed run is told to a webhook as its final event; a notification that
 * cannot be sent is logged and leaves the run's exit code alone; a bad --notify is bad usage (exit 2, with the
 * command's failure event); a success tells nothing (a one-shot run has no earlier failures to recover from).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { freePort } from '../harness/ports';
import { finalEvent, runCli } from '../runner/cli-harness';
import { describeNotification, notifyReason } from '../../runner/notify/reasons';

let server: http.Server;
let port: number;
const received: Record<string, unknown>[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((r) => server.close(() => r())));

test('a failed one-shot run is told to the webhook; an unreachable channel is logged, the exit code stays', async () => {
  const dead = await freePort();
  const r = await runCli(
    ['backup', '--storage', '/tmp/lifeboat-notify-never-written', '--notify', `http://127.0.0.1:${port}/hook`],
    { DATABASE_URL: `postgres://app:N0tify-pw@127.0.0.1:${dead}/shop`, LIFEBOAT_NOTIFY: 'ignored-when-the-flag-is-given' },
  );
  assert.equal(r.code, 1);
  assert.equal(received.length, 1);
  const n = received[0]!;
  assert.equal(n.reason, 'failure');
  assert.equal(n.title, 'Lifeboat: backup of shop failed');
  assert.equal((n.event as Record<string, unknown>).event, 'backup.failed');
  assert.equal((n.event as Record<string, unknown>).errorCode, 'db_unreachable');
  assert.ok(!JSON.stringify(n).includes('N0tify-pw'));

  const quiet = await runCli(['backup', '--storage', '/tmp/lifeboat-notify-never-written'], {
    DATABASE_URL: `postgres://app:N0tify-pw@127.0.0.1:${dead}/shop`,
    LIFEBOAT_NOTIFY: `http://127.0.0.1:${dead}/nobody`,
  });
  assert.equal(quiet.code, 1);
  assert.equal(finalEvent(quiet.stderr)?.event, 'backup.failed');
  assert.match(quiet.stderr, /could not notify webhook 127\.0\.0\.1:\d+ after 3 attempt\(s\)/);
});

test('a bad --notify is bad usage, ending with the command failure event', async () => {
  for (const url of ['not a url', 'ftp://example.test/x', 'smtp://mail.example.test']) {
    const r = await runCli(['list', '--storage', '/tmp/x', '--notify', url]);
    assert.equal(r.code, 2, r.stderr);
    const e = finalEvent(r.stderr)!;
    assert.equal(e.event, 'list.failed');
    assert.match(String(e.message), /--notify expected/);
  }
});

test('which events are told, and why', () => {
  const ev = (event: string, severity: 'info' | 'error', fields: Record<string, unknown> = {}) => ({ event, severity, message: 'm', fields }) as Parameters<typeof notifyReason>[0];
  assert.equal(notifyReason(ev('backup.succeeded', 'info'), 0), undefined);
  assert.equal(notifyReason(ev('backup.succeeded', 'info'), 2), 'recovery');
  assert.equal(notifyReason(ev('backup.failed', 'error', { errorCode: 'db_unreachable' }), 0), 'failure');
  assert.equal(notifyReason(ev('drill.failed', 'error', { rpoSeconds: 100, rpoTargetSeconds: 60, passed: false }), 0), 'rpo-missed');
  assert.equal(notifyReason(ev('drill.failed', 'error', { rpoSeconds: 10, rpoTargetSeconds: 60, passed: false }), 0), 'drill-failed');
  assert.equal(notifyReason(ev('drill.failed', 'error', { errorCode: 'db_unreachable' }), 0), 'failure');
  // A point-in-time drill is judged the same way: its RPO is the archive lag.
  assert.equal(notifyReason(ev('pitr.drill.failed', 'error', { rpoSeconds: 900, rpoTargetSeconds: 300, passed: false }), 0), 'rpo-missed');
  assert.equal(notifyReason(ev('pitr.drill.failed', 'error', { passed: false }), 0), 'drill-failed');
  assert.equal(notifyReason(ev('pitr.drill.failed', 'error', { errorCode: 'pgbackrest_failed' }), 0), 'failure');
  assert.equal(describeNotification('rpo-missed', ev('drill.failed', 'error', { source: 'shop' })).title, 'Lifeboat: drill of shop missed its RPO');
  assert.equal(describeNotification('failure', ev('status.unhealthy', 'error', { source: 'shop' })).title, 'Lifeboat: status of shop is unhealthy');
});

test("an in-process run reads its flags' variables from its own environment, not the process's", async () => {
  const saved = process.env.LIFEBOAT_STORAGE;
  process.env.LIFEBOAT_STORAGE = '/nonexistent/lifeboat-from-the-process';
  try {
    // The process's variable must not stand in for the run's missing one...
    const missing = await runCli(['list']);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(String(finalEvent(missing.stderr)?.message), /--storage/);
    // ...nor win over the run's own.
    const own = await runCli(['list', '--json'], { LIFEBOAT_STORAGE: os.tmpdir() });
    assert.equal(own.code, 0, own.stderr);
  } finally {
    if (saved === undefined) delete process.env.LIFEBOAT_STORAGE;
    else process.env.LIFEBOAT_STORAGE = saved;
  }
});
