/**
 * Drills restore what a disaster would: onto a scratch server without the source's roles, as restore --create
 * --roles does, then check the restored catalog against the fingerprint taken at backup time and the database's
 * own properties, and drop the roles they created. A drill that cannot restore owners and grants fails, saying why.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { runCli } from '../runner/cli-harness';
import { createRolesSource } from '../runner/roles-fixture';
import type { DrillReport } from '../../runner/drill/report';

let src: PgCluster;
let scratch: PgCluster;
let storage: string;

async function roleNames(pg: PgCluster): Promise<string[]> {
  return (await pg.query<{ n: string }>(`SELECT rolname AS n FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%' ORDER BY 1`)).map((r) => r.n);
}

async function databases(pg: PgCluster): Promise<string[]> {
  return (await pg.query<{ d: string }>('SELECT datname AS d FROM pg_database ORDER BY 1')).map((r) => r.d);
}

before(async () => {
  [src, scratch] = await Promise.all([startPostgres(), startPostgres()]);
  await createRolesSource(src);
  storage = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-drill-roles-'));
  const b = await runCli(['backup', '--storage', storage, '--database-url', src.url('shop'), '--class', 'manual']);
  assert.equal(b.code, 0, b.stderr);
});

after(async () => {
  await Promise.all([src?.stop(), scratch?.stop()]);
  rmSync(storage, { recursive: true, force: true });
});

test('a drill onto a server without the roles restores owners, grants and policies, checks the catalog and the database, and drops what it created', async () => {
  const rolesBefore = await roleNames(scratch);
  const dbsBefore = await databases(scratch);
  const r = await runCli(['drill', '--storage', storage, '--scratch-url', scratch.url('postgres'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as DrillReport;
  const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
  assert.deepEqual(report.checks.map((c) => [c.name, c.ok]), [
    ['restore', true], ['row counts', true], ['catalog', true], ['database', true], ['rpo', true], ['rto', true], ['scratch dropped', true], ['roles', true],
  ]);
  assert.match(byName.catalog!.detail, /as in the source \(5 constraint, 2 default privileges, 3 index, 2 policy, 2 schema, 3 sequence, 3 table, 1 view\)$/);
  assert.match(byName.database!.detail, /^owner shop_owner, LATIN1, locale C, ACL and 3 settings as in the source$/);
  assert.match(byName.roles!.detail, /^created alice, app_base, app_rw, auditor, report_reader, shop_owner for the restore; the roles it created \(.*\) were dropped$/);
  assert.deepEqual(report.rolesCreated, ['alice', 'app_base', 'app_rw', 'auditor', 'report_reader', 'shop_owner']);
  assert.deepEqual(await roleNames(scratch), rolesBefore);
  assert.deepEqual(await databases(scratch), dbsBefore);
});

test('a drill whose user may not create the roles fails and says why, leaving nothing behind', async () => {
  await scratch.query(`CREATE ROLE driller LOGIN CREATEDB PASSWORD 'Driller-pw-1'`);
  const url = scratch.url('postgres').replace(/^postgres:\/\/[^@]+@/, 'postgres://driller:Driller-pw-1@');
  const rolesBefore = await roleNames(scratch);
  const dbsBefore = await databases(scratch);
  const r = await runCli(['drill', '--storage', storage, '--scratch-url', url, '--json']);
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout) as DrillReport;
  const restore = report.checks.find((c) => c.name === 'restore')!;
  assert.equal(restore.ok, false);
  assert.match(restore.detail, /creating the missing roles .* failed: permission denied to create role; none was created/);
  assert.deepEqual(await roleNames(scratch), rolesBefore);
  assert.deepEqual(await databases(scratch), dbsBefore);
});

test('a drill of a --table backup creates the schemas of its tables (pg_dump --table carries none) and passes', async () => {
  const b = await runCli(['backup', '--storage', storage, '--database-url', src.url('shop'), '--class', 'manual', '--table', 'sales.orders', '--table', 'sales.customers']);
  assert.equal(b.code, 0, b.stderr);
  const r = await runCli(['drill', '--storage', storage, '--scratch-url', scratch.url('postgres'), '--backup', b.stdout.trim(), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as DrillReport;
  const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
  assert.equal(byName['row counts']!.detail, '2 tables match the manifest');
  assert.match(byName.catalog!.detail, /^not checked: the backup recorded no catalog fingerprint$/);
  assert.equal(byName.database!.ok, true);
});

test('a drill drops the scratch databases of killed drills (no lock held, nobody connected), and only those, and says so', async () => {
  const dead = 'lifeboat_drill_20200101t000000z_beef';
  const running = 'lifeboat_drill_20200101t000000z_cafe';
  const busy = 'lifeboat_drill_20200101t000000z_0a0a';
  const other = 'lifeboat_drill_keep_me';
  for (const d of [dead, running, busy, other]) await scratch.createDatabase(d);
  // A live drill holds the lock of its scratch database on a session of its own.
  const live = new Client({ connectionString: scratch.url('postgres') });
  await live.connect();
  await live.query(`SELECT pg_advisory_lock(x'4c424452'::int, hashtext($1))`, [running]);
  const inside = new Client({ connectionString: scratch.url(busy) });
  await inside.connect();
  try {
    const r = await runCli(['drill', '--storage', storage, '--scratch-url', scratch.url('postgres'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as DrillReport;
    assert.deepEqual(report.staleScratchDropped, [dead]);
    assert.match(r.stderr, /dropped 1 scratch database left by drills that were killed: lifeboat_drill_20200101t000000z_beef/);
    const left = await databases(scratch);
    assert.ok(!left.includes(dead));
    for (const d of [running, busy, other]) assert.ok(left.includes(d), d);
  } finally {
    await Promise.all([live.end(), inside.end()]);
  }
});
