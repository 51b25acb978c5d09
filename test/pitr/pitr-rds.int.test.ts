/**
 * PITR of an RDS instance through the official SDK (@aws-sdk/client-rds) against moto's RDS: a restore carries
 * the source's subnet group, security groups, parameter group, class, Multi-AZ and storage over, tags the copy,
 * waits until it is available and never changes the source; a target outside the window and an existing name
 * are refused before anything is made. The drill clones, checks and deletes, and removes the clone a killed
 * drill left behind.
 *
 * moto runs no PostgreSQL, so the drill's connection goes through its test seam (cloneConnectionSeam) to a real
 * local server: a database copied from the source at T (CREATE DATABASE ... TEMPLATE) stands in for the clone,
 * and the heartbeat and row-count checks run against it for real.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateDBInstanceCommand, DescribeDBInstancesCommand, RestoreDBInstanceToPointInTimeCommand, type DBInstance, type RDSClient, type RestoreDBInstanceToPointInTimeCommandInput } from '@aws-sdk/client-rds';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { startMotoRds, type RdsEmulator } from '../harness/rds';
import { finalEvent, runCli } from '../runner/cli-harness';
import { parseDatabaseUrl, type ConnInfo } from '../../runner/pg/connection';
import { silentLogger } from '../../runner/log';
import type { RunContext } from '../../runner/context';
import { LocalStorage } from '../../runner/storage/local';
import { RdsPitr } from '../../runner/pitr/rds';
import { drillCloneName, DRILL_LABEL, MADE_BY_LABEL, MADE_BY_VALUE } from '../../runner/pitr/managed';
import { runManagedPitrRestore } from '../../runner/commands/pitr-restore';
import { runManagedPitrDrill } from '../../runner/pitr/managed-drill';
import { writeHeartbeat } from '../../runner/pitr/heartbeat';
import type { LifeboatError } from '../../runner/errors';
import { Client } from 'pg';

let rds: RdsEmulator;
let pg: PgCluster;
let source: DBInstance;
let target: Date;
let tmp: string;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function testCtx(now: () => Date = () => new Date()): RunContext & { lines: string[]; logs: Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const logger = silentLogger();
  // Progress off a terminal goes to the logger: keep what it is told.
  logger.info = ((o: Record<string, unknown>, msg?: string) => void logs.push({ ...o, msg })) as typeof logger.info;
  const sink = { write: (s: string) => (lines.push(s), true), isTTY: false };
  return { env: {}, stdout: sink, stderr: sink, logger, now, signal: new AbortController().signal, lines, logs };
}

/** Everything DescribeDBInstances says about the source but the clock (LatestRestorableTime moves by itself). */
async function describeSource(c: RDSClient): Promise<Record<string, unknown>> {
  const d = (await c.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'shop' }))).DBInstances![0]!;
  const { LatestRestorableTime: _moving, ...rest } = d;
  return rest;
}

async function exists(c: RDSClient, id: string): Promise<boolean> {
  try {
    await c.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
    return true;
  } catch (e) {
    if ((e as Error).name === 'DBInstanceNotFoundFault') return false;
    throw e;
  }
}

/**
 * Deletes an instance a test made. moto copies the source's deletion protection onto a restored copy even when
 * the request says false (it skips false overrides), so this goes through Lifeboat's own delete, which lifts it.
 */
async function drop(c: RDSClient, id: string): Promise<void> {
  await new RdsPitr(c, 'shop').deleteInstance(id);
}

/** Records the input of every RestoreDBInstanceToPointInTime the client sends. */
function captureRestores(c: RDSClient): RestoreDBInstanceToPointInTimeCommandInput[] {
  const seen: RestoreDBInstanceToPointInTimeCommandInput[] = [];
  c.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === RestoreDBInstanceToPointInTimeCommand.name) seen.push(args.input as RestoreDBInstanceToPointInTimeCommandInput);
      return next(args);
    },
    { step: 'initialize', name: 'captureRestores' },
  );
  return seen;
}

/**
 * moto makes an instance "available" at once; a real restore takes minutes. This reports the first `n`
 * describes of `id` as "creating" (after deserialising moto's real answer), so the wait is exercised.
 */
function slowToCreate(c: RDSClient, id: string, n: number): void {
  let left = n;
  c.middlewareStack.add(
    (next, context) => async (args) => {
      const r = await next(args);
      const out = r.output as { DBInstances?: DBInstance[] } | undefined;
      if (context.commandName === DescribeDBInstancesCommand.name && left > 0 && out?.DBInstances?.[0]?.DBInstanceIdentifier === id) {
        left--;
        out.DBInstances[0]!.DBInstanceStatus = 'creating';
      }
      return r;
    },
    { step: 'initialize', name: 'slowToCreate' },
  );
}

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-pitr-rds-'));
  [rds, pg] = await Promise.all([startMotoRds(), startPostgres()]);
  Object.assign(process.env, rds.env);
  const c = rds.client();
  await rds.createSubnetGroup('shop-subnets');
  await rds.createParameterGroup('shop-params');
  await c.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: 'shop',
      Engine: 'postgres',
      EngineVersion: '16.3',
      DBInstanceClass: 'db.m5.large',
      AllocatedStorage: 100,
      StorageType: 'gp3',
      MultiAZ: true,
      MasterUsername: 'shop',
      MasterUserPassword: 'not-a-real-secret',
      DBName: 'shop',
      DBSubnetGroupName: 'shop-subnets',
      VpcSecurityGroupIds: ['sg-0a1b2c3d4e5f60718', 'sg-0f1e2d3c4b5a69788'],
      DBParameterGroupName: 'shop-params',
      BackupRetentionPeriod: 7,
      DeletionProtection: true,
      Tags: [{ Key: 'team', Value: 'shop' }],
    }),
  );
  source = (await c.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'shop' }))).DBInstances![0]!;

  // The database behind it: orders and heartbeats, a copy taken at T (what a clone to T holds), then more.
  await pg.createDatabase('shop');
  await pg.query('CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 3)', 'shop');
  const s = new Client({ connectionString: pg.url('shop') });
  await s.connect();
  await writeHeartbeat(s);
  await s.end();
  await sleep(1200); // heartbeats count as "before" only a second or more before the target
  target = new Date();
  await pg.query('CREATE DATABASE shop_at_t TEMPLATE shop');
  await sleep(20);
  const s2 = new Client({ connectionString: pg.url('shop') });
  await s2.connect();
  await writeHeartbeat(s2);
  await s2.query('INSERT INTO orders VALUES (4), (5)');
  await s2.end();
});

after(async () => {
  await rds?.stop();
  await pg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test('restore: a new instance with the source\'s network, parameter group, class, Multi-AZ and storage, tagged, waited for; the source untouched', async () => {
  const c = rds.client();
  const sent = captureRestores(c);
  slowToCreate(c, 'shop-restored', 2);
  const before = await describeSource(c);
  const ctx = testCtx();
  const r = await runManagedPitrRestore({ provider: new RdsPitr(c, 'shop'), target: source.InstanceCreateTime!, into: 'shop-restored', timeoutMs: 60_000, pollMs: 10 }, { ctx });
  assert.equal(r.instance.status, 'available');
  assert.ok(r.instance.endpoint?.host, 'the endpoint is reported');
  // It waited: the statuses it saw went through "creating" to "available", logged as JSON off a terminal.
  assert.deepEqual(ctx.logs.map((l) => l.status), ['creating', 'available']);

  assert.equal(sent.length, 1);
  const input = sent[0]!;
  assert.equal(input.SourceDBInstanceIdentifier, 'shop');
  assert.equal(input.RestoreTime?.toISOString(), source.InstanceCreateTime!.toISOString());
  assert.equal(input.DBSubnetGroupName, 'shop-subnets');
  assert.deepEqual(input.VpcSecurityGroupIds, ['sg-0a1b2c3d4e5f60718', 'sg-0f1e2d3c4b5a69788']);
  assert.equal(input.DBParameterGroupName, 'shop-params');
  assert.equal(input.DBInstanceClass, 'db.m5.large');
  assert.equal(input.MultiAZ, true);
  assert.equal(input.StorageType, 'gp3');
  assert.equal(input.AllocatedStorage, 100);
  assert.equal(input.DeletionProtection, true, 'a restore keeps the source\'s deletion protection');

  const made = (await c.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'shop-restored' }))).DBInstances![0]!;
  assert.equal(made.DBSubnetGroup?.DBSubnetGroupName, 'shop-subnets');
  assert.deepEqual(made.VpcSecurityGroups?.map((g) => g.VpcSecurityGroupId), ['sg-0a1b2c3d4e5f60718', 'sg-0f1e2d3c4b5a69788']);
  assert.equal(made.DBParameterGroups?.[0]?.DBParameterGroupName, 'shop-params');
  assert.equal(made.DBInstanceClass, 'db.m5.large');
  assert.equal(made.MultiAZ, true);
  const tags = Object.fromEntries((made.TagList ?? []).map((t) => [t.Key, t.Value]));
  assert.equal(tags[MADE_BY_LABEL], MADE_BY_VALUE);
  assert.equal(tags['lifeboat-restore-of'], 'shop');
  assert.equal(tags['lifeboat-restore-to'], source.InstanceCreateTime!.toISOString());

  assert.deepEqual(await describeSource(c), before, 'the source is exactly as it was');
  await drop(c, 'shop-restored');
});

test('restore: a target outside the window is refused up front, naming the window; nothing is made', async () => {
  const c = rds.client();
  const sent = captureRestores(c);
  const before = await describeSource(c);
  const early = new Date(source.InstanceCreateTime!.getTime() - 3_600_000);
  await assert.rejects(
    runManagedPitrRestore({ provider: new RdsPitr(c, 'shop'), target: early, into: 'shop-too-early', timeoutMs: 60_000, pollMs: 10 }, { ctx: testCtx() }),
    (e: LifeboatError) => {
      assert.equal(e.code, 'target_time_outside_window');
      assert.equal(e.exitCode, 2);
      assert.match(e.message, /--to-time .* is before the recoverable window of RDS instance shop, which is \S+ to \S+ \(backup retention 7 days, since the instance was created\)/);
      assert.ok(e.message.includes(source.InstanceCreateTime!.toISOString()), e.message);
      return true;
    },
  );
  assert.equal(sent.length, 0);
  assert.equal(await exists(c, 'shop-too-early'), false);
  assert.deepEqual(await describeSource(c), before);
});

test('restore: an existing instance name (the source included) is refused; nothing is made', async () => {
  const c = rds.client();
  const sent = captureRestores(c);
  await c.send(new CreateDBInstanceCommand({ DBInstanceIdentifier: 'shop-old-copy', Engine: 'postgres', DBInstanceClass: 'db.t3.micro', AllocatedStorage: 20, MasterUsername: 'x', MasterUserPassword: 'not-a-real-secret' }));
  for (const into of ['shop-old-copy', 'shop']) {
    await assert.rejects(
      runManagedPitrRestore({ provider: new RdsPitr(c, 'shop'), target: source.InstanceCreateTime!, into, timeoutMs: 60_000, pollMs: 10 }, { ctx: testCtx() }),
      (e: LifeboatError) => e.code === 'into_exists' && e.exitCode === 2 && e.message.includes(`--into ${into} already exists`),
    );
  }
  assert.equal(sent.length, 0);
});

test('restore: a copy still creating when --timeout runs out is left to finish, and the error names it', async () => {
  const c = rds.client();
  slowToCreate(c, 'shop-slow', 1_000_000);
  await assert.rejects(
    runManagedPitrRestore({ provider: new RdsPitr(c, 'shop'), target: source.InstanceCreateTime!, into: 'shop-slow', timeoutMs: 50, pollMs: 10 }, { ctx: testCtx() }),
    (e: LifeboatError) => e.code === 'managed_restore_unfinished' && e.exitCode === 1 && /still "creating" when the --timeout ran out/.test(e.message) && e.message.includes('shop-slow is left to finish'),
  );
  assert.equal(await exists(c, 'shop-slow'), true);
  await drop(c, 'shop-slow');
});

/** The test seam: the clone's endpoint is moto's made-up host name; connect to the copy taken at T instead. */
function seamTo(database: string, seen: string[]): (endpoint: { host: string; port: number }, conn: ConnInfo) => ConnInfo {
  return (endpoint, conn) => {
    seen.push(`${endpoint.host}:${endpoint.port}/${conn.database}`);
    return { ...conn, host: pg.host, port: pg.port, database };
  };
}

function drillOptions(c: RDSClient, over: Partial<Parameters<typeof runManagedPitrDrill>[0]> = {}): Parameters<typeof runManagedPitrDrill>[0] {
  return {
    provider: new RdsPitr(c, 'shop', false),
    source: 'shop',
    target,
    conn: parseDatabaseUrl(pg.url('shop')),
    tables: ['orders', 'public.orders'],
    rpoTargetSeconds: null,
    rtoTargetSeconds: null,
    timeoutMs: 3_600_000,
    pollMs: 10,
    ...over,
  };
}

test('drill: clones to T, checks heartbeats and row counts against the copy, deletes the clone, stores the report', async () => {
  const c = rds.client();
  const sent = captureRestores(c);
  const before = await describeSource(c);
  const storageDir = path.join(tmp, 'storage');
  const seen: string[] = [];
  const r = await runManagedPitrDrill(drillOptions(c, { storage: new LocalStorage(storageDir), cloneConnectionSeam: seamTo('shop_at_t', seen) }), { ctx: testCtx() });
  assert.equal(r.passed, true, JSON.stringify(r.checks, null, 2));
  assert.deepEqual(
    r.checks.map((x) => x.name),
    ['clone', 'connect', 'heartbeat before', 'heartbeat after', 'row counts', 'cleaned up', 'rpo', 'rto'],
  );
  assert.match(r.checks.find((x) => x.name === 'heartbeat after')!.detail, /is absent/);
  assert.deepEqual(
    r.managed!.tables.map((t) => [t.table, t.cloneRows, t.sourceRows]),
    [
      ['orders', 3, 5],
      ['public.orders', 3, 5],
    ],
  );
  // The clone was asked for at T, with the drill's name and tags, and without deletion protection; it is gone now.
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.RestoreTime?.toISOString(), target.toISOString());
  assert.match(sent[0]!.TargetDBInstanceIdentifier!, /^lifeboat-drill-shop-\d{8}t\d{6}z$/);
  assert.deepEqual(sent[0]!.Tags, [
    { Key: DRILL_LABEL, Value: 'shop' },
    { Key: MADE_BY_LABEL, Value: MADE_BY_VALUE },
  ]);
  assert.equal(sent[0]!.DeletionProtection, false);
  assert.equal(sent[0]!.DBSubnetGroupName, 'shop-subnets');
  assert.equal(await exists(c, r.managed!.clone), false, 'the clone is deleted');
  assert.equal(seen.length, 1);
  assert.match(seen[0]!, /^lifeboat-drill-shop-.*:5432\/shop$/, 'it would have connected to the clone with the source\'s database');
  assert.equal(typeof r.rto.seconds, 'number');
  assert.equal(r.rto.restoreSeconds !== null && r.rto.firstQuerySeconds !== null, true);
  const stored = readdirSync(path.join(storageDir, 'drills', 'pitr', 'shop'));
  assert.equal(stored.length, 1);
  assert.deepEqual(JSON.parse(readFileSync(path.join(storageDir, 'drills', 'pitr', 'shop', stored[0]!), 'utf8')).managed.clone, r.managed!.clone);
  assert.deepEqual(await describeSource(c), before, 'the source is exactly as it was');
});

test('drill: a clone that holds rows from after T, or misses a table, fails the checks and is still deleted', async () => {
  const c = rds.client();
  // Pointing the seam at the source itself: it holds the heartbeat written after T.
  const r = await runManagedPitrDrill(drillOptions(c, { tables: ['orders', 'no_such_table'], cloneConnectionSeam: seamTo('shop', []) }), { ctx: testCtx() });
  assert.equal(r.passed, false);
  const failed = r.checks.filter((x) => !x.ok).map((x) => x.name);
  assert.deepEqual(failed, ['heartbeat after', 'row counts']);
  assert.match(r.checks.find((x) => x.name === 'heartbeat after')!.detail, /is there but was written after the target/);
  assert.match(r.checks.find((x) => x.name === 'row counts')!.detail, /no_such_table: MISSING/);
  assert.equal(await exists(c, r.managed!.clone), false);
});

test('drill: the clone a killed drill left behind is deleted by the next one (only when older than a drill lasts), and listed in staleRemoved', async () => {
  const c = rds.client();
  // A drill killed two hours ago, right after it asked for its clone: made by the drill's own code, then abandoned.
  const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
  const killed = new RdsPitr(c, 'shop', false);
  const src = await killed.describeSource();
  const leftover = drillCloneName('shop', twoHoursAgo);
  await killed.startClone(leftover, source.InstanceCreateTime!, src, { [DRILL_LABEL]: 'shop', [MADE_BY_LABEL]: MADE_BY_VALUE });
  // One that may still be running (started a minute ago) and one with the prefix but no drill tag: both kept.
  const running = drillCloneName('shop', new Date(Date.now() - 60_000));
  await killed.startClone(running, source.InstanceCreateTime!, src, { [DRILL_LABEL]: 'shop' });
  // Another source whose name starts like this one's: its drills are its own business.
  const otherSource = drillCloneName('shop-eu', twoHoursAgo);
  await killed.startClone(otherSource, source.InstanceCreateTime!, src, { [DRILL_LABEL]: 'shop-eu' });
  const untagged = drillCloneName('shop', new Date(Date.now() - 3 * 3_600_000));
  await c.send(new CreateDBInstanceCommand({ DBInstanceIdentifier: untagged, Engine: 'postgres', DBInstanceClass: 'db.t3.micro', AllocatedStorage: 20, MasterUsername: 'x', MasterUserPassword: 'not-a-real-secret' }));

  const ctx = testCtx();
  const r = await runManagedPitrDrill(drillOptions(c, { cloneConnectionSeam: seamTo('shop_at_t', []) }), { ctx });
  assert.equal(r.passed, true, JSON.stringify(r.checks, null, 2));
  assert.deepEqual(r.staleRemoved, [leftover]);
  assert.ok(ctx.lines.some((l) => l.includes(`deleted the clone of an earlier drill that was killed: ${leftover}`)));
  assert.equal(await exists(c, leftover), false);
  assert.equal(await exists(c, running), true);
  assert.equal(await exists(c, untagged), true);
  assert.equal(await exists(c, otherSource), true);
  for (const id of [running, untagged, otherSource]) await drop(c, id);
});

test('CLI: exactly one of --pgdata, --rds, --cloudsql; --into is required and checked; usage errors exit 2 with one event', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['pitr', 'restore', '--rds', 'shop', '--cloudsql', 'p:i', '--to-time', '2026-01-01T00:00:00Z', '--into', 'x'], /expected exactly one of --rds, --cloudsql, --pgdata, got --rds and --cloudsql/],
    [['pitr', 'restore', '--rds', 'shop', '--pgdata', '/tmp/x', '--to-time', '2026-01-01T00:00:00Z'], /expected exactly one of --rds, --cloudsql, --pgdata, got --rds and --pgdata/],
    [['pitr', 'restore', '--to-time', '2026-01-01T00:00:00Z'], /expected exactly one of --pgdata \(a new or empty folder\), --rds or --cloudsql, got none/],
    [['pitr', 'restore', '--rds', 'shop', '--to-time', '2026-01-01T00:00:00Z'], /--into expected the name of the new instance/],
    [['pitr', 'restore', '--rds', 'shop', '--to-time', '2026-01-01T00:00:00Z', '--into', 'bad--name'], /--into expected an RDS identifier/],
    [['pitr', 'restore', '--cloudsql', 'justaname', '--to-time', '2026-01-01T00:00:00Z', '--into', 'x'], /--cloudsql expected PROJECT:INSTANCE/],
    [['pitr', 'drill', '--rds', 'shop', '--ago', '1h', '--check-table', 'orders; drop'], /--check-table expected table or schema.table/],
    [['pitr', 'drill', '--ago', '1h', '--check-table', 'orders'], /--check-table needs --rds or --cloudsql/],
  ];
  for (const [argv, re] of cases) {
    const r = await runCli(argv, { ...rds.env, DATABASE_URL: pg.url('shop') });
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(finalEvent(r.stderr)?.event, argv[1] === 'restore' ? 'pitr.restore.failed' : 'pitr.drill.failed');
  }
});

test('CLI: pitr restore --rds through the SDK\'s usual environment (AWS_REGION, AWS_ENDPOINT_URL_RDS); a window refusal exits 2', async () => {
  const c = rds.client();
  const t = source.InstanceCreateTime!.toISOString();
  const ok = await runCli(['pitr', 'restore', '--rds', 'shop', '--to-time', t, '--into', 'shop-cli', '--json'], rds.env);
  assert.equal(ok.code, 0, ok.stderr);
  const out = JSON.parse(ok.stdout);
  assert.equal(out.instance, 'shop-cli');
  assert.match(out.endpoint, /^shop-cli\..*:5432$/);
  assert.equal(finalEvent(ok.stderr)?.event, 'pitr.restore.succeeded');
  assert.equal(await exists(c, 'shop-cli'), true);
  await drop(c, 'shop-cli');

  const early = await runCli(['pitr', 'restore', '--rds', 'shop', '--to-time', '2020-01-01T00:00:00Z', '--into', 'shop-cli2'], rds.env);
  assert.equal(early.code, 2);
  assert.match(early.stderr, /is before the recoverable window of RDS instance shop, which is/);
  assert.equal(await exists(c, 'shop-cli2'), false);
});

test('CLI: pitr drill --rds whose clone cannot be reached fails (exit 1, pitr.drill.failed) and still deletes the clone', async () => {
  const c = rds.client();
  // moto's endpoint names do not resolve: the connect check fails, as it would against an unreachable clone.
  const url = new URL(pg.url('shop'));
  url.searchParams.set('connect_timeout', '5');
  const r = await runCli(['pitr', 'drill', '--rds', 'shop', '--to-time', target.toISOString(), '--storage', path.join(tmp, 'cli-storage')], { ...rds.env, DATABASE_URL: url.toString() });
  assert.equal(r.code, 1, r.stderr);
  const ev = finalEvent(r.stderr)!;
  assert.equal(ev.event, 'pitr.drill.failed');
  assert.equal(ev.source, 'shop');
  assert.equal(ev.provider, 'rds');
  const report = JSON.parse(r.stdout);
  assert.equal(report.checks.find((x: { name: string }) => x.name === 'connect').ok, false);
  assert.equal(report.checks.find((x: { name: string }) => x.name === 'cleaned up').ok, true);
  assert.equal(await exists(c, report.managed.clone), false);
  assert.ok(!r.stdout.includes(url.password) && !r.stderr.includes(url.password), 'the password is nowhere in the output');
  assert.equal(readdirSync(path.join(tmp, 'cli-storage', 'drills', 'pitr', 'shop')).length, 1);
});

test('drill: stopped (SIGTERM) while waiting for its clone, it deletes the clone and ends without a report', async () => {
  const c = rds.client();
  const sent = captureRestores(c);
  const stop = new AbortController();
  // The clone never becomes available; the run is stopped once the wait has seen it "creating".
  c.middlewareStack.add(
    (next, context) => async (args) => {
      const r = await next(args);
      const out = r.output as { DBInstances?: DBInstance[] } | undefined;
      const id = out?.DBInstances?.[0]?.DBInstanceIdentifier ?? '';
      if (context.commandName === DescribeDBInstancesCommand.name && id.startsWith('lifeboat-drill-') && sent.length > 0) {
        out!.DBInstances![0]!.DBInstanceStatus = 'creating';
        stop.abort();
      }
      return r;
    },
    { step: 'initialize', name: 'neverReady' },
  );
  const ctx = { ...testCtx(), signal: stop.signal };
  await assert.rejects(runManagedPitrDrill(drillOptions(c, { cloneConnectionSeam: seamTo('shop_at_t', []) }), { ctx }), (e: Error) => e.name === 'AbortError');
  assert.equal(sent.length, 1);
  assert.equal(await exists(c, sent[0]!.TargetDBInstanceIdentifier!), false, 'the clone is deleted');
});
