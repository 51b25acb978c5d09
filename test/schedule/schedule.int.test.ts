/**
 * `lifeboat schedule` as a real process against a real PostgreSQL, with a webhook receiver and an SMTP server
 * the test starts: intervals of two seconds make several backups; no job overlaps itself; a source whose
 * database does not exist yet fails on its own schedule without holding the others, notifies on each failure
 * (webhook, Slack, email), and once on recovery when the database appears; a Redis source is backed up too; a run missed while the daemon was
 * down runs once at start; a notification channel that is down is logged and never fails a job; /metrics is
 * valid Prometheus text; SIGTERM stops it with exit 0 and its own final event; no password anywhere in its
 * output. And with a backup held on a table lock: SIGTERM lets it finish within stopTimeout, or aborts it once
 * the timeout is over (nothing published), exiting 0 either way.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { startRedis, type RedisServer } from '../harness/redis';
import { freePort } from '../harness/ports';
import { runCliProcess, type CliResult } from '../runner/cli-harness';

interface PromFamily {
  name: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string> }[];
}
const parsePrometheusText = createRequire(__filename)('parse-prometheus-text-format') as (text: string) => PromFamily[];

const tag = Math.random().toString(36).slice(2, 8);
const PG_PASSWORD = `Sched/${tag}@pw:x`;
const SMTP_PASSWORD = `Mail/${tag}-pw`;
const SLACK_TOKEN = `T0/B0/slack${tag}`;
const REDIS_PASSWORD = `Cache/${tag}-pw`;

let pg: PgCluster;
let redis: RedisServer;
let dir: string;
let hooks: http.Server;
let hookPort: number;
let smtp: SMTPServer;
let smtpPort: number;
const webhook: Record<string, unknown>[] = [];
const slack: Record<string, unknown>[] = [];
const mails: string[] = [];
let flakyCalls = 0;

before(async () => {
  [pg, redis] = await Promise.all([startPostgres({ password: PG_PASSWORD }), startRedis({ password: REDIS_PASSWORD })]);
  await (await redis.client()).mset('a', '1', 'b', '2');
  await pg.createDatabase('shop');
  await pg.query('CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT g, md5(g::text) FROM generate_series(1, 200) g;', 'shop');
  dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-schedule-'));
  hooks = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      // The webhook fails its first attempt of each notification, so every delivery is a retry.
      if (req.url === '/hook' && flakyCalls++ % 2 === 0) return void res.writeHead(503).end();
      if (req.url === '/hook') webhook.push(JSON.parse(body) as Record<string, unknown>);
      else if (req.url === `/services/${SLACK_TOKEN}`) slack.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  hookPort = (hooks.address() as AddressInfo).port;
  smtp = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth: (auth, _session, cb) => (auth.username === 'lifeboat' && auth.password === SMTP_PASSWORD ? cb(null, { user: 'lifeboat' }) : cb(new Error('bad login'))),
    onData: (stream, _session, cb) => {
      let text = '';
      stream.on('data', (d: Buffer) => (text += d.toString()));
      stream.on('end', () => {
        mails.push(text);
        cb();
      });
    },
  });
  smtpPort = await freePort();
  await new Promise<void>((r) => smtp.listen(smtpPort, '127.0.0.1', r));
});

after(async () => {
  await Promise.all([pg?.stop(), redis?.stop()]);
  await new Promise((r) => (hooks ? hooks.close(r) : r(undefined)));
  await new Promise((r) => (smtp ? smtp.close(() => r(undefined)) : r(undefined)));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function manifests(source: string, engine = 'postgres'): string[] {
  const out: string[] = [];
  const storage = path.join(dir, 'storage');
  if (!existsSync(storage)) return out;
  for (const cls of readdirSync(storage)) {
    const d = path.join(storage, cls, engine, source);
    if (!existsSync(d)) continue;
    for (const id of readdirSync(d)) if (existsSync(path.join(d, id, 'manifest.json'))) out.push(id);
  }
  return out;
}

function lines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond: () => boolean | Promise<boolean>, what: string, tries = 600): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return;
    await sleep(100);
  }
  assert.fail(`gave up waiting for ${what}`);
}

test('the scheduler backs up on its intervals, keeps a failing source apart, notifies, serves metrics and stops on SIGTERM', async () => {
  const deadPort = await freePort();
  const config = path.join(dir, 'lifeboat.yaml');
  const state = path.join(dir, 'state.json');
  // The once-a-year job last ran in 2020: the daemon was "down" for its occurrences, so it runs once at start.
  writeFileSync(state, JSON.stringify({ version: 1, jobs: { 'yearly/backup': { lastStartedAt: '2020-01-01T00:00:00.000Z', consecutiveFailures: 0 } } }));
  writeFileSync(
    config,
    `
storage: ${path.join(dir, 'storage')}
stateFile: state.json
stopTimeout: 30s
notify:
  on: [failure, recovery]
  retry: { attempts: 3, backoff: 100ms }
  webhook:
    - urlFromEnv: HOOK_URL
    - urlFromEnv: DEAD_HOOK_URL
  slack: [{ urlFromEnv: SLACK_URL }]
  email: [{ smtpUrlFromEnv: SMTP_URL, from: lifeboat@example.test, to: [ops@example.test] }]
sources:
  shop:
    databaseUrlFromEnv: SHOP_URL
    jobs:
      backup: { every: 2s }
      status: { every: 3s, args: [--max-age, 1h] }
      pitr-heartbeat: { every: 2s }
  later:
    databaseUrlFromEnv: LATER_URL
    jobs:
      backup: { every: 2s }
  cache:
    engine: redis
    redisUrlFromEnv: CACHE_URL
    jobs:
      backup: { every: 2s }
  yearly:
    databaseUrlFromEnv: SHOP_URL
    jobs:
      backup: { cron: "0 0 1 1 *", timezone: Europe/Berlin, args: [--class, manual] }
`,
  );
  const env = {
    SHOP_URL: pg.url('shop'),
    LATER_URL: pg.url('later'),
    CACHE_URL: redis.url,
    HOOK_URL: `http://127.0.0.1:${hookPort}/hook`,
    DEAD_HOOK_URL: `http://127.0.0.1:${deadPort}/nobody-listens`,
    SLACK_URL: `slack+http://127.0.0.1:${hookPort}/services/${SLACK_TOKEN}`,
    SMTP_URL: `smtp://lifeboat:${encodeURIComponent(SMTP_PASSWORD)}@127.0.0.1:${smtpPort}`,
    LIFEBOAT_PLAIN_ERRORS: '0',
  };
  let stderr = '';
  let child: import('node:child_process').ChildProcess | undefined;
  let exited = false;
  const until = async (cond: () => boolean, what: string, tries?: number): Promise<void> => {
    try {
      await waitFor(() => {
        if (exited) assert.fail('the scheduler exited early');
        return cond();
      }, what, tries);
    } catch (e) {
      child?.kill('SIGKILL');
      throw new Error(`${(e as Error).message}\n${stderr.slice(-3000)}`);
    }
  };
  const done: Promise<CliResult & { signal: NodeJS.Signals | null }> = runCliProcess(['schedule', '--config', config, '--metrics-port', '0', '--metrics-host', '127.0.0.1'], env, (c) => {
    child = c;
    c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', () => (exited = true));
  });
  await until(() => lines(stderr).some((l) => String(l.message).startsWith('scheduling ')), 'the scheduler to start', 900);
  const started = lines(stderr).find((l) => String(l.message).startsWith('scheduling '))!;
  const metricsPort = started.metricsPort as number;

  // Several backups of the healthy source while the other fails on its own schedule.
  await until(() => manifests('shop').length >= 3, 'three backups of shop');
  await until(() => manifests('cache', 'redis').length >= 2, 'two backups of the Redis source');
  await until(() => lines(stderr).filter((l) => l.job === 'later/backup' && l.event === 'backup.failed').length >= 2, 'two failed runs of later');
  await until(() => webhook.some((n) => n.reason === 'failure' && n.job === 'later/backup') && mails.length >= 1 && slack.length >= 1, 'failure notifications');
  await until(() => lines(stderr).some((l) => String(l.message).startsWith('could not notify webhook 127.0.0.1:')), 'the dead webhook to be given up');

  // A second daemon on the same state file is refused (it would run every job twice); the first goes on.
  const second = await runCliProcess(['schedule', '--config', config], env);
  assert.equal(second.code, 1, second.stderr.slice(-2000));
  const refused = lines(second.stderr).at(-1)!;
  assert.equal(refused.event, 'schedule.failed');
  assert.equal(refused.errorCode, 'schedule_locked');
  assert.match(String(refused.message), /another scheduler holds .*state\.json\.lock/);

  // Point-in-time heartbeats are written on their own schedule, through `pitr heartbeat`.
  await until(() => lines(stderr).filter((l) => l.job === 'shop/pitr-heartbeat' && l.event === 'pitr.heartbeat.succeeded').length >= 2, 'two heartbeats');
  const beats = await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM lifeboat.heartbeat', 'shop');
  assert.ok(beats[0]!.n >= 2, JSON.stringify(beats));

  // The database appears: the next run succeeds and recovery is told once.
  await pg.createDatabase('later');
  await until(() => webhook.some((n) => n.reason === 'recovery' && n.job === 'later/backup'), 'a recovery notification');
  await until(() => mails.some((m) => m.includes('recovered')), 'a recovery email');
  await until(() => manifests('later').length >= 2, 'two backups of later after its recovery');
  await until(() => lines(stderr).some((l) => l.job === 'shop/status' && l.event === 'status.healthy'), 'a healthy status of shop');

  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  assert.equal(res.status, 200);
  const families = parsePrometheusText(await res.text());
  const family = (name: string) => families.find((f) => f.name === name);
  const value = (name: string, labels: Record<string, string>) =>
    Number(family(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value);
  assert.ok(value('lifeboat_last_success_timestamp_seconds', { source: 'shop', kind: 'backup' }) > Date.now() / 1000 - 60);
  assert.ok(value('lifeboat_stored_bytes', { source: 'shop', kind: 'backup' }) > 0);
  assert.ok(value('lifeboat_last_duration_seconds', { source: 'shop', kind: 'backup' }) > 0);
  assert.equal(value('lifeboat_consecutive_failures', { source: 'shop', kind: 'backup' }), 0);
  assert.equal(value('lifeboat_consecutive_failures', { source: 'later', kind: 'backup' }), 0);
  assert.ok(value('lifeboat_runs_total', { source: 'later', kind: 'backup', outcome: 'failure' }) >= 2);
  assert.ok(value('lifeboat_notification_failures_total', { channel: 'webhook' }) >= 1);
  assert.equal(family('lifeboat_consecutive_failures')?.type, 'GAUGE');
  assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status, 200);

  child!.kill('SIGTERM');
  const r = await done;
  assert.equal(r.code, 0, r.stderr.slice(-2000));
  const all = lines(r.stderr);
  const last = all[all.length - 1]!;
  assert.equal(last.event, 'schedule.stopped');

  // No job ever overlapped itself: each job's runs, from start (end minus duration) to end, are disjoint.
  const runs = all.filter((l) => typeof l.job === 'string' && typeof l.event === 'string' && typeof l.durationSeconds === 'number');
  for (const id of new Set(runs.map((l) => l.job as string))) {
    const spans = runs
      .filter((l) => l.job === id)
      .map((l) => [Date.parse(l.time as string) - (l.durationSeconds as number) * 1000, Date.parse(l.time as string)] as const)
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1] - 5, `${id} overlapped itself`);
  }
  // Every scheduled run ended with the same event a one-shot run would.
  // (status may run before the first backup exists, and is then unhealthy, as it should be)
  assert.ok(runs.some((l) => l.job === 'shop/status' && l.event === 'status.healthy'));
  assert.ok(runs.filter((l) => l.job === 'shop/status').every((l) => ['status.healthy', 'status.unhealthy'].includes(l.event as string)));
  assert.ok(runs.some((l) => l.job === 'shop/backup' && l.event === 'backup.succeeded' && l.source === 'shop' && typeof l.backupId === 'string'));
  // The missed yearly run ran once at start, and only once.
  assert.equal(runs.filter((l) => l.job === 'yearly/backup').length, 1);
  assert.ok(all.some((l) => l.job === 'yearly/backup' && String(l.message).includes('missed')));
  // Slack got Slack's shape; the webhook got the event.
  assert.ok(slack.some((m) => /^\*Lifeboat: backup of later failed\*\n/.test(String(m.text))), JSON.stringify(slack));
  // (shop's status may have failed too, when it ran before shop's first backup was published)
  const failure = webhook.find((n) => n.reason === 'failure' && n.job === 'later/backup')!;
  assert.equal((failure.event as Record<string, unknown>).event, 'backup.failed');
  assert.ok(runs.some((l) => l.job === 'cache/backup' && l.event === 'redis.backup.succeeded' && l.engine === 'redis'));
  for (const secret of [PG_PASSWORD, encodeURIComponent(PG_PASSWORD), SMTP_PASSWORD, SLACK_TOKEN, REDIS_PASSWORD]) {
    assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret), 'a secret in the output');
    assert.ok(!JSON.stringify(webhook).includes(secret) && !mails.join('').includes(secret), 'a secret in a notification');
  }
});

test('SIGTERM lets a running backup finish within stopTimeout, and aborts one that overruns it, publishing nothing; a second SIGTERM ends it at once', async () => {
  const { Client } = await import('pg');
  for (const [name, stopTimeout, release, again] of [
    ['finishes', '30s', true, false],
    ['overruns', '1s', false, false],
    ['twice', '10m', false, true],
  ] as const) {
    // A lock the backup must wait for keeps it running for as long as the test wants.
    const locker = new Client({ connectionString: pg.url('shop') });
    await locker.connect();
    await locker.query('BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');
    const source = `held-${name}`;
    const config = path.join(dir, `${source}.yaml`);
    writeFileSync(config, `storage: ${path.join(dir, 'storage')}\nstateFile: ${source}.state.json\nstopTimeout: ${stopTimeout}\nsources:\n  ${source}:\n    databaseUrlFromEnv: SHOP_URL\n    jobs: { backup: { every: 1h } }\n`);
    let stderr = '';
    let child: import('node:child_process').ChildProcess | undefined;
    const done = runCliProcess(['schedule', '--config', config], { SHOP_URL: pg.url('shop'), LIFEBOAT_PLAIN_ERRORS: '0' }, (c) => {
      child = c;
      c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    });
    try {
      // The backup (an interval job that never ran starts at once) waits on the lock.
      await waitFor(async () => (await pg.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = 'shop'", 'postgres'))[0]!.n !== '0', `${name}: a backup waiting on the lock`, 900);
      child!.kill('SIGTERM');
      await waitFor(() => stderr.includes('stopping: no new runs'), `${name}: the scheduler to start stopping`);
      if (release) await locker.query('COMMIT');
      if (again) {
        // The stop would wait 10 minutes for the backup: a second SIGTERM does not.
        const t = Date.now();
        child!.kill('SIGTERM');
        const r = await done;
        assert.equal(r.signal, 'SIGTERM', r.stderr.slice(-2000));
        assert.ok(Date.now() - t < 5000, `${name}: ended ${Date.now() - t} ms after the second SIGTERM`);
        assert.equal(manifests(source).length, 0);
        continue;
      }
      const r = await done;
      assert.equal(r.code, 0, r.stderr.slice(-2000));
      const all = lines(r.stderr);
      const stopping = all.findIndex((l) => String(l.message).startsWith('stopping'));
      const backup = all.findIndex((l) => l.job === `${source}/backup` && typeof l.event === 'string');
      assert.ok(backup > stopping, `${name}: the backup ended after SIGTERM`);
      const last = all[all.length - 1]!;
      assert.equal(last.event, 'schedule.stopped');
      if (release) {
        assert.equal(all[backup]!.event, 'backup.succeeded');
        assert.deepEqual(last.aborted, []);
        assert.equal(manifests(source).length, 1);
      } else {
        assert.equal(all[backup]!.event, 'backup.failed');
        assert.deepEqual(last.aborted, [`${source}/backup`]);
        assert.equal(manifests(source).length, 0);
      }
    } finally {
      child?.kill('SIGKILL');
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  }
});
