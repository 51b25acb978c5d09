/**
 * The schedule file: every bad key named with what was expected, secrets only by reference (a URL with a
 * password inline is refused), and each job turned into the CLI arguments and variables its runs get.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { resolveScheduleConfig } from '../../runner/schedule/config';
import { isLifeboatError } from '../../runner/errors';

const env = { SHOP_URL: 'postgres://app:S3cret-pw@db:5432/shop', HOOK: 'https://hooks.example.test/x', SMTP: 'smtp://u:p4ss@mail:25', SLACK: 'https://hooks.slack.com/services/T/B/x' };

function load(yaml: string, e: NodeJS.ProcessEnv = env) {
  return resolveScheduleConfig(parse(yaml), { env: e, file: '/etc/lifeboat/lifeboat.yaml' });
}

function refusal(yaml: string, e: NodeJS.ProcessEnv = env): string {
  try {
    load(yaml, e);
  } catch (err) {
    assert.ok(isLifeboatError(err), String(err));
    assert.equal(err.exitCode, 2);
    return err.message;
  }
  assert.fail('expected the file to be refused');
}

const GOOD = `
storage: /var/backups
timezone: Europe/Berlin
jitter: 30s
notify:
  webhook: [{ urlFromEnv: HOOK }]
  slack: [{ urlFromEnv: SLACK }]
  email: [{ smtpUrlFromEnv: SMTP, from: a@example.test, to: [b@example.test] }]
  retry: { attempts: 2, backoff: 500ms }
sources:
  shop:
    databaseUrlFromEnv: SHOP_URL
    jobs:
      backup: { every: 6h }
      drill: { cron: "30 3 * * 0", args: [--rpo, 26h] }
      prune: { cron: "0 5 * * *", timezone: UTC, args: [--yes], jitter: 0s }
  cache:
    engine: redis
    redisUrl: redis://cache:6379
    jobs: { backup: { cron: "15 * * * *" }, status: { every: 1h } }
`;

test('a good file becomes jobs with their command, variables, timing and jitter', () => {
  const c = load(GOOD);
  assert.equal(c.stateFile, '/etc/lifeboat/.lifeboat-schedule-state.json');
  assert.equal(c.stopTimeoutMs, 600_000);
  assert.deepEqual(c.jobs.map((j) => j.id), ['shop/backup', 'shop/drill', 'shop/prune', 'cache/backup', 'cache/status']);
  const [backup, drill, prune, redis, status] = c.jobs;
  assert.deepEqual(backup!.argv, ['backup', '--source', 'shop']);
  assert.deepEqual(backup!.timing, { every: 6 * 3600_000 });
  assert.equal(backup!.jitterMs, 30_000);
  assert.equal(backup!.env.DATABASE_URL, env.SHOP_URL);
  assert.equal(backup!.env.LIFEBOAT_STORAGE, '/var/backups');
  assert.deepEqual(drill!.argv, ['drill', '--source', 'shop', '--rpo', '26h']);
  assert.deepEqual(drill!.timing, { cron: '30 3 * * 0', timezone: 'Europe/Berlin' });
  assert.deepEqual(prune!.argv, ['prune', '--source', 'shop', '--engine', 'postgres', '--yes']);
  assert.deepEqual(prune!.timing, { cron: '0 5 * * *', timezone: 'UTC' });
  assert.equal(prune!.jitterMs, 0);
  assert.deepEqual(redis!.argv, ['redis', 'backup', '--source', 'cache']);
  assert.equal(redis!.env.LIFEBOAT_REDIS_URL, 'redis://cache:6379');
  assert.deepEqual(status!.argv, ['status', '--source', 'cache', '--engine', 'redis']);
  assert.deepEqual(c.notify.channels.map((ch) => ch.type), ['webhook', 'slack', 'email']);
  assert.deepEqual(c.notify.channels[2]!.to, ['b@example.test']);
  assert.equal(c.notify.attempts, 2);
  assert.equal(c.notify.backoffMs, 500);
});

test('point-in-time jobs run the pitr commands of the same source; a drill targets an hour ago unless told', () => {
  const c = load(`
storage: /var/backups
sources:
  shop:
    databaseUrlFromEnv: SHOP_URL
    jobs:
      pitr-full: { cron: "0 1 * * 0" }
      pitr-diff: { cron: "0 1 * * 1-6" }
      pitr-incr: { every: 1h }
      pitr-heartbeat: { every: 5m }
      pitr-drill: { cron: "0 4 * * *", args: [--rpo, 5m] }
  other:
    databaseUrlFromEnv: SHOP_URL
    jobs:
      pitr-drill: { every: 1d, args: [--to-time, "2026-12-07T14:31:00Z"] }
`);
  const argv = Object.fromEntries(c.jobs.map((j) => [j.id, j.argv]));
  assert.deepEqual(argv, {
    'shop/pitr-full': ['pitr', 'backup', '--type', 'full', '--source', 'shop'],
    'shop/pitr-diff': ['pitr', 'backup', '--type', 'diff', '--source', 'shop'],
    'shop/pitr-incr': ['pitr', 'backup', '--type', 'incr', '--source', 'shop'],
    'shop/pitr-heartbeat': ['pitr', 'heartbeat'],
    'shop/pitr-drill': ['pitr', 'drill', '--source', 'shop', '--ago', '1h', '--rpo', '5m'],
    'other/pitr-drill': ['pitr', 'drill', '--source', 'other', '--to-time', '2026-12-07T14:31:00Z'],
  });
  // The heartbeat and the drill's archive lag read the database at DATABASE_URL.
  assert.equal(c.jobs.find((j) => j.id === 'shop/pitr-heartbeat')!.env.DATABASE_URL, env.SHOP_URL);
  assert.match(
    refusal(`storage: /b\nsources:\n  cache:\n    engine: redis\n    redisUrl: redis://c:6379\n    jobs: { pitr-full: { every: 1d } }\n`),
    /sources\.cache\.jobs\.pitr-full: point-in-time recovery is for postgres sources/,
  );
  assert.match(refusal(`storage: /b\nsources:\n  shop:\n    databaseUrlFromEnv: SHOP_URL\n    jobs: { pitr-ful: { every: 1d } }\n`), /unknown key pitr-ful \(expected backup, drill, status, prune, pitr-full, pitr-diff, pitr-incr, pitr-heartbeat, pitr-drill\)/);
});

test('secrets come from files too', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-sched-'));
  writeFileSync(path.join(dir, 'url'), 'postgres://app:fr0m-file@db/shop\n');
  const c = load(`storage: /b\nsources:\n  shop:\n    databaseUrlFile: ${path.join(dir, 'url')}\n    jobs: { backup: { every: 1h } }\n`);
  assert.equal(c.jobs[0]!.env.DATABASE_URL, 'postgres://app:fr0m-file@db/shop');
});

test('every bad key is named with what was expected', () => {
  const m = refusal(`
storage: /b
timezon: UTC
sources:
  shop:
    databaseUrlFromEnv: SHOP_URL
    jobs:
      backup: { every: 6 hours, jiter: 1s }
      restore: { every: 1h }
      drill: { cron: "61 * * * *" }
      status: { every: 1h, cron: "0 * * * *" }
      prune: { every: 1h, timezone: Mars/Olympus }
  bad name!:
    databaseUrlFromEnv: SHOP_URL
    jobs: { backup: { every: 1h } }
`);
  for (const part of [
    'unknown key timezon (expected storage,',
    'sources.shop.jobs: unknown key restore (expected backup, drill, status, prune, pitr-full, pitr-diff, pitr-incr, pitr-heartbeat, pitr-drill)',
    'sources.shop.jobs.backup: unknown key jiter (expected every, cron, timezone, jitter, args, env)',
    'sources.shop.jobs.backup.every: expected a duration like 6h',
    'sources.shop.jobs.status: expected exactly one of every or cron',
    'sources.bad name!: expected a source name of letters',
    'sources.shop.jobs.prune.timezone: expected an IANA time zone',
  ]) {
    assert.ok(m.includes(part), `${part}\n in: ${m}`);
  }
  const cron = refusal(`storage: /b\nsources:\n  shop:\n    databaseUrlFromEnv: SHOP_URL\n    jobs: { drill: { cron: "61 * * * *" } }\n`);
  assert.match(cron, /sources\.shop\.jobs\.drill\.cron: expected a cron expression such as "0 2 \* \* \*", got "61 \* \* \* \*"/);
});

test('a password inline is refused, and never echoed', () => {
  for (const [yaml, key] of [
    [`storage: /b\nsources:\n  shop:\n    databaseUrl: postgres://app:Inl1ne-pw@db/shop\n    jobs: { backup: { every: 1h } }\n`, 'sources.shop.databaseUrl'],
    [`storage: /b\nsources:\n  shop:\n    databaseUrlFromEnv: SHOP_URL\n    jobs: { drill: { every: 1h, args: [--scratch-url, "postgres://x:Inl1ne-pw@h/d"] } }\n`, 'sources.shop.jobs.drill.args[1]'],
    [`storage: /b\nsources:\n  shop:\n    databaseUrlFromEnv: SHOP_URL\n    env: { LIFEBOAT_SCRATCH_URL: "postgres://x:Inl1ne-pw@h/d" }\n    jobs: { backup: { every: 1h } }\n`, 'sources.shop.env.LIFEBOAT_SCRATCH_URL'],
    [`storage: /b\nnotify:\n  email: [{ smtpUrl: "smtp://u:Inl1ne-pw@mail", from: a@example.test, to: [b@example.test] }]\nsources:\n  shop:\n    databaseUrlFromEnv: SHOP_URL\n    jobs: { backup: { every: 1h } }\n`, 'notify.email[0].smtpUrl'],
  ] as const) {
    const m = refusal(yaml);
    assert.ok(m.includes(`${key}: a password inline is refused`), m);
    assert.ok(!m.includes('Inl1ne-pw'), m);
  }
  const slack = refusal(`storage: /b\nnotify:\n  slack: [{ url: "https://hooks.slack.com/services/T/B/x" }]\nsources:\n  shop:\n    databaseUrlFromEnv: SHOP_URL\n    jobs: { backup: { every: 1h } }\n`);
  assert.match(slack, /notify\.slack\[0\]\.url: a secret inline is refused; expected urlFromEnv or urlFile/);
});

test('a reference to a variable that is not set, or two ways to give one value, is named', () => {
  const m = refusal(`storageFromEnv: NOPE\nsources:\n  shop:\n    databaseUrlFromEnv: SHOP_URL\n    databaseUrl: postgres://db/shop\n    jobs: { backup: { every: 1h } }\n  cache:\n    engine: redis\n    databaseUrlFromEnv: SHOP_URL\n    jobs: { drill: { every: 1h } }\n`);
  for (const part of [
    'storage.storageFromEnv: the variable NOPE is not set',
    'sources.shop: expected one of databaseUrl, databaseUrlFromEnv or databaseUrlFile, got databaseUrl and databaseUrlFromEnv',
    'sources.cache.databaseUrlFromEnv: not for a redis source (expected redisUrl)',
    'sources.cache: expected redisUrl, redisUrlFromEnv or redisUrlFile',
    'sources.cache.jobs.drill: drills are for postgres sources',
  ]) {
    assert.ok(m.includes(part), `${part}\n in: ${m}`);
  }
  assert.match(refusal('sources: {}\nstorage: /b\n'), /sources: expected at least one source/);
});

test('lifeboat schedule --check prints each job with its next run; a bad file exits 2 with schedule.failed', async () => {
  const { runCli, finalEvent } = await import('../runner/cli-harness');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-check-'));
  const good = path.join(dir, 'good.yaml');
  writeFileSync(good, `storage: ${dir}\nsources:\n  shop:\n    databaseUrlFromEnv: SHOP_URL\n    jobs: { backup: { cron: "0 2 * * *", timezone: Asia/Tokyo }, status: { every: 1h } }\n`);
  const ok = await runCli(['schedule', '--config', good, '--check'], { SHOP_URL: env.SHOP_URL });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^shop\/backup\tnext \d{4}-\d\d-\d\dT17:00:00\.000Z\tlifeboat backup --source shop$/m);
  assert.match(ok.stdout, /^shop\/status\tnext .*\tlifeboat status --source shop --engine postgres$/m);
  assert.equal(finalEvent(ok.stderr)?.event, 'schedule.stopped');
  assert.ok(!ok.stdout.includes('S3cret-pw') && !ok.stderr.includes('S3cret-pw'));

  const bad = path.join(dir, 'bad.yaml');
  writeFileSync(bad, `storage: ${dir}\nsources:\n  shop:\n    databaseUrl: postgres://app:S3cret-pw@db/shop\n    jobs: { backup: { evry: 1h } }\n`);
  const refused = await runCli(['schedule', '--config', bad, '--check']);
  assert.equal(refused.code, 2);
  const e = finalEvent(refused.stderr)!;
  assert.equal(e.event, 'schedule.failed');
  assert.match(String(e.message), /sources\.shop\.jobs\.backup: unknown key evry/);
  assert.ok(!refused.stderr.includes('S3cret-pw'));
  const missing = await runCli(['schedule', '--config', path.join(dir, 'nope.yaml'), '--check']);
  assert.equal(missing.code, 2);
  assert.match(String(finalEvent(missing.stderr)?.message), /--config .*nope\.yaml: cannot read it \(ENOENT\)/);
});
