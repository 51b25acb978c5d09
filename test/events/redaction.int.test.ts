/**
 * Credentials never reach output: real `lifeboat` processes (as a job platform runs them) are given Redis URLs
 * with a password, succeed and fail in several ways, and everything they print on stdout and stderr, logs at
 * debug level included, is searched for the password in every form it could take. Each run also ends with
 * exactly one structured event line from the contract.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { ALL_EVENT_NAMES } from '../../runner/contract/events';
import { startRedis, type RedisServer } from '../harness/redis';
import { tempStorage } from '../retention/store';
import type { LocalStorage } from '../../runner/storage/local';

// Characters that URL-encoding changes, so both forms are checked.
const PASSWORD = `Pw/${Math.random().toString(36).slice(2, 8)}@s3cr3t:x`;
let source: RedisServer;
let target: RedisServer;
let storage: LocalStorage;
let cleanup: () => Promise<void>;

before(async () => {
  [source, target] = await Promise.all([startRedis({ password: PASSWORD }), startRedis({ password: PASSWORD })]);
  ({ storage, cleanup } = await tempStorage());
  const c = await source.client();
  await c.mset('a', '1', 'b', '2', 'c', '3');
});
after(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
  await cleanup?.();
});

interface Run {
  code: number;
  output: string;
  stderr: string;
}

function lifeboat(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const root = path.resolve(__dirname, '../..');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'runner/cli.ts'), ...args],
      { cwd: root, env: { ...process.env, LIFEBOAT_LOG_LEVEL: 'debug', LIFEBOAT_STORAGE: storage.root, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, output: stdout + stderr, stderr });
      },
    );
  });
}

const FORMS = [PASSWORD, encodeURIComponent(PASSWORD), encodeURI(PASSWORD), 'Pw%2F', PASSWORD.slice(3)];

function assertNoPassword(r: Run, what: string): void {
  for (const form of FORMS) assert.ok(!r.output.includes(form), `${what}: output contains the password (${form}):\n${r.output}`);
}

/** The one event line of the run: JSON with event, severity and message. */
function finalEvent(r: Run): Record<string, unknown> {
  const events = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((o) => typeof o.event === 'string');
  assert.equal(events.length, 1, `exactly one event line:\n${r.stderr}`);
  const e = events[0]!;
  assert.ok((ALL_EVENT_NAMES as readonly unknown[]).includes(e.event), String(e.event));
  assert.equal(typeof e.severity, 'string');
  assert.equal(typeof e.message, 'string');
  return e;
}

test('runs with a password-bearing Redis URL never print the password, succeeding or failing', async () => {
  const runs: [string, string[], number, string, Record<string, string>?][] = [
    ['rdb backup', ['redis', 'backup', '--redis-url', source.url, '--source', 'cache'], 0, 'redis.backup.succeeded'],
    ['dump backup via REDIS_URL', ['redis', 'backup', '--method', 'dump', '--source', 'cache'], 0, 'redis.backup.succeeded', { REDIS_URL: source.url }],
    ['verify', ['redis', 'verify', 'latest', '--source', 'cache'], 0, 'redis.verify.succeeded'],
    ['restore', ['redis', 'restore', 'latest', '--source', 'cache', '--redis-url', target.url], 0, 'redis.restore.succeeded'],
    ['restore refused (target not empty)', ['redis', 'restore', 'latest', '--source', 'cache', '--redis-url', target.url], 2, 'redis.restore.failed'],
    ['unreachable host', ['redis', 'backup', '--redis-url', `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:1`, '--source', 'cache'], 1, 'redis.backup.failed'],
    ['rdb snapshot refused (wrong user)', ['redis', 'backup', '--redis-url', `redis://nobody:${encodeURIComponent(PASSWORD)}@127.0.0.1:${source.port}`, '--source', 'cache'], 2, 'redis.backup.failed'],
    ['wrong scheme', ['redis', 'backup', '--redis-url', `http://user:${encodeURIComponent(PASSWORD)}@example.invalid`], 2, 'redis.backup.failed'],
    ['status', ['status'], 0, 'status.healthy'],
    ['prune', ['prune'], 0, 'prune.succeeded'],
  ];
  for (const [what, args, wantCode, wantEvent, env] of runs) {
    const r = await lifeboat(args, env);
    assert.equal(r.code, wantCode, `${what}: exit code\n${r.output}`);
    assertNoPassword(r, what);
    assert.equal(finalEvent(r).event, wantEvent, what);
  }
});

test('the redaction check itself finds a password when one is printed', () => {
  assert.throws(() => assertNoPassword({ code: 0, output: `redis://:${encodeURIComponent(PASSWORD)}@h`, stderr: '' }, 'probe'));
});
