/**
 * The events contract across every command, as a job platform runs them: real `lifeboat` processes against a
 * real PostgreSQL and Redis whose passwords contain characters URL-encoding changes, an encrypted backup whose
 * age identity comes from the environment, logs at debug level. For every run, success and failure alike:
 * - exactly one structured event line, its name from runner/contract/events.ts, with Cloud Logging's `severity`
 *   and `message`, the exit code, the duration in seconds and, where the run concerns one backup, its source,
 *   class, stored bytes and backup id (drills: RPO/RTO figures and targets);
 * - no password (in any encoding) and no age identity anywhere in stdout or stderr, nor in the manifests and
 *   drill reports the runs stored;
 * - off a terminal, no progress line (carriage returns, rates, ETAs).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ALL_EVENT_NAMES, EVENT_FIELDS, SEVERITY } from '../../runner/contract/events';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { startRedis, type RedisServer } from '../harness/redis';
import { runCliProcess, type CliResult } from '../runner/cli-harness';

const tag = Math.random().toString(36).slice(2, 8);
const PG_PASSWORD = `Pg/${tag}@s3cr:x&y=z%`;
const REDIS_PASSWORD = `Rd/${tag}@s3cr:x`;
let pg: PgCluster;
let redis: RedisServer;
let storage: string;
let identity: string;
let recipient: string;

before(async () => {
  [pg, redis] = await Promise.all([startPostgres({ password: PG_PASSWORD }), startRedis({ password: REDIS_PASSWORD })]);
  await pg.createDatabase('shop');
  await pg.query('CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT g, md5(g::text) FROM generate_series(1, 500) g;', 'shop');
  await (await redis.client()).mset('a', '1', 'b', '2');
  storage = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-events-'));
  const age = await import('age-encryption');
  identity = await age.generateX25519Identity();
  recipient = await age.identityToRecipient(identity);
});
after(async () => {
  await Promise.all([pg?.stop(), redis?.stop()]);
  if (storage) rmSync(storage, { recursive: true, force: true });
});

/** Every form a secret could leak in. */
function secretForms(): string[] {
  const forms = new Set<string>();
  for (const p of [PG_PASSWORD, REDIS_PASSWORD]) {
    forms.add(p);
    forms.add(encodeURIComponent(p));
    forms.add(encodeURI(p));
    forms.add(p.slice(3)); // the distinctive tail, should a prefix be cut off
  }
  forms.add(identity);
  forms.add(identity.slice('AGE-SECRET-KEY-1'.length));
  return [...forms];
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCliProcess(args, { LIFEBOAT_LOG_LEVEL: 'debug', LIFEBOAT_STORAGE: storage, LIFEBOAT_AGE_IDENTITY: identity, ...env });
}

interface Expect {
  code: number;
  event: string;
  /** Fields that must be present (not null/undefined) on the event. */
  fields?: string[];
  /** Exact values. */
  values?: Record<string, unknown>;
  /** A failure that was a finding (an unhealthy status, a failed check), not an error: no errorCode. */
  finding?: boolean;
}

const ONE_BACKUP = [EVENT_FIELDS.source, EVENT_FIELDS.backupClass, EVENT_FIELDS.bytes, EVENT_FIELDS.backupId];

function check(what: string, r: CliResult, want: Expect): Record<string, unknown> {
  const all = r.stdout + r.stderr;
  for (const form of secretForms()) assert.ok(!all.includes(form), `${what}: the output contains a secret (${form}):\n${all}`);
  assert.ok(!all.includes('\r') && !/ETA \d/.test(all), `${what}: progress output off a terminal:\n${all}`);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const events = lines.filter((o) => o[EVENT_FIELDS.event] !== undefined);
  assert.equal(events.length, 1, `${what}: exactly one event line:\n${r.stderr}`);
  const e = events[0]!;
  assert.equal(lines.at(-1), e, `${what}: the event is the run's last log line`);
  assert.equal(r.code, want.code, `${what}: exit code\n${all}`);
  assert.equal(e.event, want.event, `${what}\n${r.stderr}`);
  assert.ok((ALL_EVENT_NAMES as readonly unknown[]).includes(e.event), `${what}: ${String(e.event)} is not in the contract`);
  assert.equal(e.severity, want.code === 0 ? SEVERITY.info : SEVERITY.error, what);
  assert.equal(typeof e.message, 'string', what);
  assert.ok((e.message as string).length > 0, what);
  assert.equal(e.exitCode, want.code, what);
  assert.equal(typeof e.durationSeconds, 'number', `${what}: durationSeconds`);
  assert.ok((e.durationSeconds as number) >= 0, what);
  if (want.code !== 0) assert.equal(typeof e.errorCode, want.finding ? 'undefined' : 'string', `${what}: errorCode`);
  for (const f of want.fields ?? []) assert.ok(e[f] !== undefined && e[f] !== null, `${what}: field ${f} missing:\n${JSON.stringify(e)}`);
  for (const [k, v] of Object.entries(want.values ?? {})) assert.deepEqual(e[k], v, `${what}: ${k}`);
  return e;
}

test('every command ends with one contract event carrying its figures, and never prints a secret', async () => {
  const shop = pg.url('shop');
  const b = await run(['backup', '--database-url', shop, '--encrypt-to', recipient]);
  const backup = check('backup', b, { code: 0, event: 'backup.succeeded', fields: [...ONE_BACKUP, 'rawBytes'], values: { source: 'shop', class: 'yearly', backupId: b.stdout.trim(), engine: 'postgres' } });
  assert.ok((backup.bytes as number) > 0);

  check('list', await run(['list']), { code: 0, event: 'list.succeeded', values: { count: 1 } });

  const v = await run(['verify', 'latest', '--restore-into', pg.url('verify_scratch')]);
  check('verify', v, { code: 0, event: 'verify.succeeded', fields: ONE_BACKUP, values: { source: 'shop', backupId: backup.backupId, bytes: backup.bytes } });

  const rs = await run(['restore', 'latest', '--target-url', pg.url('shop_restored'), '--create']);
  check('restore', rs, { code: 0, event: 'restore.succeeded', fields: ONE_BACKUP, values: { source: 'shop', class: 'yearly', backupId: backup.backupId } });

  const d = await run(['drill', '--scratch-url', pg.url('postgres'), '--rpo', '24h', '--rto', '30m']);
  const drill = check('drill', d, {
    code: 0,
    event: 'drill.succeeded',
    fields: [...ONE_BACKUP, 'rpoSeconds', 'rtoSeconds'],
    values: { source: 'shop', backupId: backup.backupId, rpoTargetSeconds: 86400, rtoTargetSeconds: 1800, passed: true },
  });
  assert.ok((drill.rpoSeconds as number) >= 0 && (drill.rtoSeconds as number) > 0);

  // The backup is more than a second old by now: an RPO target of one second fails the drill with its figures.
  await new Promise((r) => setTimeout(r, 1100));
  const failed = check('drill missing its RPO', await run(['drill', '--scratch-url', pg.url('postgres'), '--rpo', '1s']), {
    code: 1,
    event: 'drill.failed',
    fields: [...ONE_BACKUP, 'rpoSeconds', 'rtoSeconds'],
    values: { rpoTargetSeconds: 1, passed: false },
    finding: true,
  });
  assert.ok((failed.rpoSeconds as number) > 1);

  check('clone', await run(['clone', '--from', shop, '--to', pg.url('shop_clone'), '--create']), { code: 0, event: 'clone.succeeded', values: { source: 'shop' } });

  const rb = await run(['redis', 'backup', '--redis-url', redis.url, '--source', 'cache', '--encrypt-to', recipient]);
  const redisBackup = check('redis backup', rb, { code: 0, event: 'redis.backup.succeeded', fields: ONE_BACKUP, values: { source: 'cache', class: 'yearly', backupId: rb.stdout.trim(), engine: 'redis', keys: 2 } });
  check('redis verify', await run(['redis', 'verify', 'latest', '--source', 'cache']), {
    code: 0, event: 'redis.verify.succeeded', fields: ONE_BACKUP, values: { backupId: redisBackup.backupId, passed: true },
  });
  const target = await startRedis({ password: REDIS_PASSWORD });
  try {
    check('redis restore', await run(['redis', 'restore', 'latest', '--source', 'cache', '--redis-url', target.url]), {
      code: 0, event: 'redis.restore.succeeded', fields: ONE_BACKUP, values: { backupId: redisBackup.backupId, keys: 2 },
    });
  } finally {
    await target.stop();
  }

  check('status', await run(['status', '--max-age', '1h']), { code: 0, event: 'status.healthy', values: { sources: 2 } });
  check('prune', await run(['prune']), { code: 0, event: 'prune.succeeded', values: { dryRun: true, wouldDelete: 0 } });
  const page = path.join(storage, '..', `${path.basename(storage)}-report.html`);
  check('report', await run(['report', '--out', page]), { code: 0, event: 'report.succeeded', values: { sources: 2 } });
  const html = readFileSync(page, 'utf8');
  rmSync(page, { force: true });
  for (const form of secretForms()) assert.ok(!html.includes(form), `the report contains a secret (${form})`);

  // What the runs left in storage (manifests, drill reports) carries no secret either.
  const stored = readdirSync(storage, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));
  assert.ok(stored.some((f) => f.startsWith('drills')) && stored.filter((f) => f.endsWith('manifest.json')).length === 2, stored.join());
  for (const f of stored) {
    const text = readFileSync(path.join(storage, f), 'utf8');
    for (const form of secretForms()) assert.ok(!text.includes(form), `${f} contains a secret (${form})`);
  }
});

test('failures end with the failed event of their command, naming what they know, and never print a secret', async () => {
  const wrongPassword = pg.url('shop').replace(encodeURIComponent(PG_PASSWORD), encodeURIComponent(`${PG_PASSWORD}-wrong`));
  check('backup, wrong password', await run(['backup', '--database-url', wrongPassword]), {
    code: 2, event: 'backup.failed', values: { source: 'shop', engine: 'postgres' },
  });
  const closed = `postgres://postgres:${encodeURIComponent(PG_PASSWORD)}@127.0.0.1:1/shop`;
  check('backup, unreachable', await run(['backup', '--database-url', closed]), { code: 1, event: 'backup.failed', values: { source: 'shop' } });
  check('restore of an unknown backup', await run(['restore', '20200101T000000Z-abcd', '--target-url', pg.url('nope'), '--create']), {
    code: 2, event: 'restore.failed',
  });
  check('verify without the identity', await run(['verify', 'latest', '--source', 'shop'], { LIFEBOAT_AGE_IDENTITY: '' }), {
    code: 1, event: 'verify.failed', values: { source: 'shop' },
  });
  check('drill against an unreachable scratch server', await run(['drill', '--scratch-url', closed.replace('/shop', '/postgres')]), {
    code: 1, event: 'drill.failed', values: { passed: false },
  });
  check('clone into an unreachable server', await run(['clone', '--from', pg.url('shop'), '--to', closed.replace('/shop', '/copy'), '--create']), {
    code: 1, event: 'clone.failed',
  });
  check('redis backup, wrong password', await run(['redis', 'backup', '--redis-url', redis.url.replace(encodeURIComponent(REDIS_PASSWORD), 'x'), '--source', 'cache']), {
    code: 2, event: 'redis.backup.failed', values: { engine: 'redis', source: 'cache' },
  });
  check('status of a source that does not exist', await run(['status', '--source', 'nothing']), { code: 1, event: 'status.unhealthy', finding: true });
  check('prune, bad count', await run(['prune', '--keep-daily', '-1']), { code: 2, event: 'prune.failed' });
  // Malformed URLs that carry a password: the error may describe the URL, never with its password.
  const pw = encodeURIComponent(PG_PASSWORD);
  check('backup, port out of range', await run(['backup', '--database-url', `postgres://postgres:${pw}@127.0.0.1:99999/shop`]), { code: 2, event: 'backup.failed' });
  check('backup, not a postgres URL', await run(['backup', '--database-url', `mysql://postgres:${pw}@127.0.0.1/shop`]), { code: 2, event: 'backup.failed' });
  check('drill, scratch URL with spaces', await run(['drill', '--scratch-url', `postgres://postgres:${pw}@127.0.0.1 :5432/x y`]), { code: 2, event: 'drill.failed' });
  check('redis backup, URL naming a database', await run(['redis', 'backup', '--redis-url', `redis://:${encodeURIComponent(REDIS_PASSWORD)}@127.0.0.1:${redis.port}/3`]), {
    code: 2, event: 'redis.backup.failed',
  });
  check('report over a storage URL of an unknown scheme', await run(['report', '--storage', 'ftp://backups.example/x']), { code: 2, event: 'report.failed' });
  check('list with a storage URL of an unknown scheme', await run(['list', '--storage', 'ftp://backups.example/x']), { code: 2, event: 'list.failed' });
});

test('the secret check itself finds a leaked password and a second event line', () => {
  const ok: CliResult = { code: 0, stdout: '', stderr: '{"severity":"INFO","message":"m","event":"list.succeeded","exitCode":0,"durationSeconds":0}\n' };
  check('probe', ok, { code: 0, event: 'list.succeeded' });
  assert.throws(() => check('probe', { ...ok, stdout: `postgres://u:${encodeURIComponent(PG_PASSWORD)}@h/db` }, { code: 0, event: 'list.succeeded' }), /contains a secret/);
  assert.throws(() => check('probe', { ...ok, stderr: ok.stderr + ok.stderr }, { code: 0, event: 'list.succeeded' }), /exactly one event line/);
});
