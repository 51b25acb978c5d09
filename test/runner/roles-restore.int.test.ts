/**
 * A disaster's restore: a backup of a database that uses roles (an owner, grants, default privileges, policies,
 * settings, a membership chain, a revoked CONNECT, LATIN1) restored onto a second, fresh cluster that has none of
 * them. The target is refused without --roles, before anything is created; with --roles and --create it gets back
 * the same schema (owners and privileges included), database properties, roles and data.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { compileLocale, startPostgres, type PgCluster } from '../harness/postgres';
import { restoreBackup } from '../../runner/commands/restore';
import { parseDatabaseUrl } from '../../runner/pg/connection';
import { defaultSpawner, type Spawner } from '../../runner/pipeline/spawn';
import { silentLogger } from '../../runner/log';
import { openStorage } from '../../runner/storage/open';
import { runBackup } from '../../runner/commands/backup';
import type { LifeboatError } from '../../runner/errors';
import { LocalStorage } from '../../runner/storage/local';
import type { PutOptions, Storage } from '../../runner/storage/types';
import type { Readable } from 'node:stream';
import { finalEvent, runCli } from './cli-harness';
import { createRolesSource, databaseProperties, FIXTURE_REFERENCED_ROLES, roleDescriptions, snapshotOf } from './roles-fixture';
import { schemaDump, tableChecksums } from './pg-fixtures';

let src: PgCluster;
let fresh: PgCluster;
let storage: string;
let backupId: string;
const dirs: string[] = [];

function tempDir(prefix: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}

async function roleNames(pg: PgCluster): Promise<string[]> {
  return (await pg.query<{ n: string }>(`SELECT rolname AS n FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%' ORDER BY 1`)).map((r) => r.n);
}

async function databases(pg: PgCluster): Promise<string[]> {
  return (await pg.query<{ d: string }>('SELECT datname AS d FROM pg_database ORDER BY 1')).map((r) => r.d);
}

before(async () => {
  [src, fresh] = await Promise.all([startPostgres(), startPostgres()]);
  await createRolesSource(src);
  storage = tempDir('lifeboat-roles-');
  const r = await runCli(['backup', '--storage', storage, '--database-url', src.url('shop'), '--class', 'manual', '--role-passwords']);
  assert.equal(r.code, 0, r.stderr);
  backupId = r.stdout.trim();
});

after(async () => {
  await Promise.all([src?.stop(), fresh?.stop()]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('the backup records the referenced roles and the database in globals.json, listed in the manifest before it', () => {
  const dir = path.join(storage, 'manual', 'postgres', 'shop', backupId);
  assert.deepEqual(readdirSync(dir).sort(), ['dump.pgc.zst', 'globals.json', 'manifest.json']);
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  assert.equal(manifest.globals.object, 'globals.json');
  assert.equal(manifest.globals.passwords, true);
  assert.equal(manifest.globals.roles, FIXTURE_REFERENCED_ROLES.length);
  assert.doesNotMatch(JSON.stringify(manifest), /SCRAM-SHA-256/);
  const globals = JSON.parse(readFileSync(path.join(dir, 'globals.json'), 'utf8'));
  assert.deepEqual(globals.roles.map((r: { name: string }) => r.name), FIXTURE_REFERENCED_ROLES);
  assert.match(globals.roles.find((r: { name: string }) => r.name === 'alice').password, /^SCRAM-SHA-256\$/);
  assert.deepEqual(globals.memberships.map((m: { role: string; member: string }) => `${m.member}>${m.role}`).sort(), ['alice>app_rw', 'app_rw>app_base']);
  assert.equal(globals.database.encoding, 'LATIN1');
  assert.equal(globals.database.owner, 'shop_owner');
});

test('a target without the roles is refused before anything is created, naming them and --roles', async () => {
  const rolesBefore = await roleNames(fresh);
  const dbsBefore = await databases(fresh);
  const r = await runCli(['restore', backupId, '--storage', storage, '--target-url', fresh.url('shop'), '--create']);
  assert.equal(r.code, 2, r.stderr);
  const event = finalEvent(r.stderr)!;
  assert.equal(event.event, 'restore.failed');
  assert.equal(event.errorCode, 'roles_missing');
  for (const role of ['shop_owner', 'app_rw', 'auditor', 'report_reader']) assert.match(String(event.message), new RegExp(`\\b${role}\\b`));
  assert.match(r.stderr, /--roles/);
  assert.deepEqual(await roleNames(fresh), rolesBefore);
  assert.deepEqual(await databases(fresh), dbsBefore);
});

test('restore --create --roles onto a fresh cluster gives back schema, owners, grants, policies, database properties, roles and data', async () => {
  const before = await snapshotOf(src, 'shop');
  const r = await runCli(['restore', backupId, '--storage', storage, '--target-url', fresh.url('shop'), '--create', '--roles', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual([...out.rolesCreated].sort(), FIXTURE_REFERENCED_ROLES);
  const afterRestore = await snapshotOf(fresh, 'shop');
  assert.equal(afterRestore.schema, before.schema);
  assert.deepEqual(afterRestore.properties, before.properties);
  assert.deepEqual(afterRestore.data, before.data);
  assert.deepEqual(await roleDescriptions(fresh, FIXTURE_REFERENCED_ROLES), await roleDescriptions(src, FIXTURE_REFERENCED_ROLES));
  assert.ok(!(await roleNames(fresh)).includes('unrelated'), 'a role the database does not reference is not created');
  // The password hash came along: alice logs in with her password, and the policy applies to her.
  const alice = new Client({ host: fresh.host, port: fresh.port, user: 'alice', password: 'Alice-pw-7Hq', database: 'shop' });
  await alice.connect();
  try {
    const rows = await alice.query<{ n: string; owners: string[] }>(`SELECT count(*) AS n, array_agg(DISTINCT owner_name) AS owners FROM sales.orders`);
    assert.equal(rows.rows[0]!.n, '150');
    assert.deepEqual(rows.rows[0]!.owners, ['alice']);
    const wm = await alice.query<{ w: string }>(`SELECT current_setting('work_mem') AS w`);
    assert.equal(wm.rows[0]!.w, '16MB');
  } finally {
    await alice.end();
  }
});

test('roles that exist are never altered, and a target that has them all needs no --roles', async () => {
  await fresh.query(`ALTER ROLE alice CONNECTION LIMIT 9`);
  await fresh.query(`ALTER ROLE app_rw RESET statement_timeout`);
  const r = await runCli(['restore', backupId, '--storage', storage, '--target-url', fresh.url('shop_again'), '--create', '--roles', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).rolesCreated, []);
  const [alice] = await fresh.query<{ l: number }>(`SELECT rolconnlimit AS l FROM pg_roles WHERE rolname = 'alice'`);
  assert.equal(alice!.l, 9);
  const [rw] = await fresh.query<{ s: string[] | null }>(`SELECT (SELECT setconfig FROM pg_db_role_setting WHERE setrole = r.oid AND setdatabase = 0) AS s FROM pg_roles r WHERE rolname = 'app_rw'`);
  assert.equal(rw!.s, null);
  const props = await databaseProperties(fresh, 'shop_again');
  assert.equal(props.owner, 'shop_owner');
  assert.equal(props.encoding, 'LATIN1');
  const without = await runCli(['restore', backupId, '--storage', storage, '--target-url', fresh.url('shop_third'), '--create']);
  assert.equal(without.code, 0, without.stderr);
});

test('a locale the target lacks stops restore --create before anything is created; --allow-locale-change keeps the encoding and says so', async () => {
  const dir = tempDir('lifeboat-locale-');
  const { locpath, name } = compileLocale(dir, 'de_DE', 'ISO-8859-1');
  chmodSync(dir, 0o755);
  const german = await startPostgres({ env: { LOCPATH: locpath } });
  try {
    await german.query(`CREATE DATABASE kneipe ENCODING 'LATIN1' LOCALE '${name}' TEMPLATE template0`);
    await german.query(`CREATE TABLE gaeste (name text); INSERT INTO gaeste VALUES ('Jürgen'), ('Zoë'), ('Ärzte')`, 'kneipe');
    const store = tempDir('lifeboat-locale-store-');
    const b = await runCli(['backup', '--storage', store, '--database-url', german.url('kneipe'), '--class', 'manual']);
    assert.equal(b.code, 0, b.stderr);
    const dbsBefore = await databases(fresh);
    const refused = await runCli(['restore', 'latest', '--storage', store, '--target-url', fresh.url('kneipe'), '--create', '--roles']);
    assert.equal(refused.code, 2, refused.stderr);
    const event = finalEvent(refused.stderr)!;
    assert.equal(event.errorCode, 'locale_unavailable');
    assert.match(String(event.message), /LATIN1, locale de_DE\.ISO-8859-1/);
    assert.match(refused.stderr, /--allow-locale-change/);
    assert.deepEqual(await databases(fresh), dbsBefore);

    const allowed = await runCli(['restore', 'latest', '--storage', store, '--target-url', fresh.url('kneipe'), '--create', '--roles', '--allow-locale-change']);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /note: --allow-locale-change: database "kneipe" was created with locale C instead of the source's encoding LATIN1, locale de_DE\.ISO-8859-1/);
    const props = await databaseProperties(fresh, 'kneipe');
    assert.equal(props.encoding, 'LATIN1');
    assert.equal(props.datcollate, 'C');
    const rows = await fresh.query<{ name: string }>(`SELECT name FROM gaeste ORDER BY name COLLATE "C"`, 'kneipe');
    assert.deepEqual(rows.map((r) => r.name), ['Jürgen', 'Zoë', 'Ärzte']);
  } finally {
    await german.stop();
  }
});

test('encrypted backups encrypt their globals too; without --role-passwords no password is recorded, and roles come back without one', async () => {
  const age = await import('age-encryption');
  const identity = await age.generateX25519Identity();
  const recipient = await age.identityToRecipient(identity);
  const dir = tempDir('lifeboat-roles-age-');
  const identityFile = path.join(dir, 'key.txt');
  writeFileSync(identityFile, identity + '\n', { mode: 0o600 });
  const store = path.join(dir, 'store');
  const b = await runCli(['backup', '--storage', store, '--database-url', src.url('shop'), '--class', 'manual', '--encrypt-to', recipient, '--json']);
  assert.equal(b.code, 0, b.stderr);
  const manifest = JSON.parse(b.stdout);
  assert.equal(manifest.globals.object, 'globals.json.age');
  assert.equal(manifest.globals.passwords, false);
  assert.equal(manifest.globals.encryption.recipients.length, 1);
  const stored = readFileSync(path.join(store, 'manual', 'postgres', 'shop', manifest.id, 'globals.json.age'));
  assert.ok(!stored.includes('shop_owner'), 'the stored globals are not plain text');

  const other = await startPostgres();
  try {
    const r = await runCli(['restore', manifest.id, '--storage', store, '--identity-file', identityFile, '--target-url', other.url('shop'), '--create', '--roles', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...JSON.parse(r.stdout).rolesCreated].sort(), FIXTURE_REFERENCED_ROLES);
    const [alice] = await other.query<{ has: boolean }>(`SELECT rolpassword IS NOT NULL AS has FROM pg_authid WHERE rolname = 'alice'`);
    assert.equal(alice!.has, false);
    assert.deepEqual(await roleDescriptions(other, FIXTURE_REFERENCED_ROLES), await roleDescriptions(src, FIXTURE_REFERENCED_ROLES));
  } finally {
    await other.stop();
  }
});

test('a restore user that is not a superuser (as on Cloud SQL) restores owners and grants: it becomes a member of each role it creates', async () => {
  const other = await startPostgres();
  try {
    await other.query(`CREATE ROLE lifeboat_restore LOGIN CREATEROLE CREATEDB PASSWORD 'Restore-pw-5'`);
    const url = other.url('shop').replace(/^postgres:\/\/[^@]+@/, 'postgres://lifeboat_restore:Restore-pw-5@');
    const before = await snapshotOf(src, 'shop');
    const r = await runCli(['restore', backupId, '--storage', storage, '--target-url', url, '--create', '--roles', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const afterRestore = await snapshotOf(other, 'shop');
    assert.equal(afterRestore.schema, before.schema);
    assert.deepEqual(afterRestore.data, before.data);
    assert.equal((await databaseProperties(other, 'shop')).owner, 'shop_owner');
    const members = await other.query<{ r: string }>(
      `SELECT r.rolname AS r FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = 'lifeboat_restore' ORDER BY 1`,
    );
    assert.deepEqual(members.map((x) => x.r), [...JSON.parse(r.stdout).rolesCreated].sort());
  } finally {
    await other.stop();
  }
});

test('a failed restore drops the roles --roles created along with the database', async () => {
  const other = await startPostgres();
  try {
    // pg_restore fails once the database and the roles exist.
    const failingRestore: Spawner = (file, args, options) => defaultSpawner(file.endsWith('pg_restore') ? 'false' : file, file.endsWith('pg_restore') ? [] : args, options);
    const ctx = { env: process.env, logger: silentLogger(), signal: new AbortController().signal, stderr: { write: () => true } };
    const failure = await restoreBackup(
      { storage: await openStorage(storage, {}), ref: backupId, target: parseDatabaseUrl(other.url('shop')), create: true, roles: true },
      { ctx, spawner: failingRestore },
    ).then(() => null, (e: unknown) => e as Error);
    assert.ok(failure, 'the restore failed');
    assert.match(failure.message, /the roles it created \(.*shop_owner.*\) were dropped/);
    assert.deepEqual(await roleNames(other), ['postgres']);
    assert.ok(!(await databases(other)).includes('shop'));
  } finally {
    await other.stop();
  }
});

test('a backup user that may not read pg_authid (as on Cloud SQL and RDS) records the roles without passwords; --role-passwords is refused up front', async () => {
  // Not pg_read_all_data: that reads pg_authid too.
  await src.query(`CREATE ROLE backup_user LOGIN BYPASSRLS PASSWORD 'Backup-pw-3'; GRANT CONNECT ON DATABASE shop TO backup_user`);
  await src.query(`GRANT USAGE ON SCHEMA sales TO backup_user; GRANT SELECT ON ALL TABLES IN SCHEMA sales TO backup_user; GRANT SELECT ON ALL SEQUENCES IN SCHEMA sales TO backup_user`, 'shop');
  const url = src.url('shop').replace(/^postgres:\/\/[^@]+@/, 'postgres://backup_user:Backup-pw-3@');
  const store = tempDir('lifeboat-roles-managed-');
  const refused = await runCli(['backup', '--storage', store, '--database-url', url, '--class', 'manual', '--role-passwords']);
  assert.equal(refused.code, 2, refused.stderr);
  const event = finalEvent(refused.stderr)!;
  assert.equal(event.errorCode, 'role_passwords_unreadable');
  assert.match(String(event.message), /may not read pg_authid.*Cloud SQL and RDS/);
  assert.deepEqual(readdirSync(store), [], 'nothing was written');

  const b = await runCli(['backup', '--storage', store, '--database-url', url, '--class', 'manual', '--json']);
  assert.equal(b.code, 0, b.stderr);
  const manifest = JSON.parse(b.stdout);
  assert.equal(manifest.globals.passwords, false);
  const globals = JSON.parse(readFileSync(path.join(store, 'manual', 'postgres', 'shop', manifest.id, 'globals.json'), 'utf8'));
  // The database now also grants to backup_user, so it is recorded too.
  assert.deepEqual(globals.roles.map((r: { name: string }) => r.name), [...FIXTURE_REFERENCED_ROLES, 'backup_user'].sort());
  assert.ok(globals.roles.every((r: { password?: string }) => r.password === undefined));
  await src.query(`REVOKE CONNECT ON DATABASE shop FROM backup_user`);
  await src.query(`REVOKE ALL ON ALL TABLES IN SCHEMA sales FROM backup_user; REVOKE ALL ON ALL SEQUENCES IN SCHEMA sales FROM backup_user; REVOKE USAGE ON SCHEMA sales FROM backup_user`, 'shop');
});

test('backup --table of a table whose foreign key references one left out is refused before anything is written', async () => {
  const store = tempDir('lifeboat-fk-out-');
  const r = await runCli(['backup', '--storage', store, '--database-url', src.url('shop'), '--class', 'manual', '--table', 'sales.orders', '--table', 'sales.invoices']);
  assert.equal(r.code, 2, r.stderr);
  const event = finalEvent(r.stderr)!;
  assert.equal(event.errorCode, 'table_references_outside');
  assert.match(String(event.message), /sales\.orders \(orders_customer_id_fkey references sales\.customers\)/);
  assert.doesNotMatch(String(event.message), /invoices_order_id_fkey/);
  assert.match(r.stderr, /Add --table sales\.customers/);
  assert.deepEqual(readdirSync(store), []);
  const ok = await runCli(['backup', '--storage', store, '--database-url', src.url('shop'), '--class', 'manual', '--table', 'sales.orders', '--table', 'sales.customers']);
  assert.equal(ok.code, 0, ok.stderr);
  const other = await runCli(['restore', ok.stdout.trim(), '--storage', store, '--target-url', fresh.url('shop_two_tables'), '--create']);
  assert.equal(other.code, 0, other.stderr);
});

test("the snapshot session ended under the backup says which connection it was and what it was doing", async () => {
  const store = new LocalStorage(tempDir('lifeboat-snapshot-lost-'));
  // Once the payload is stored (the dump and the counts are done), the server ends the snapshot session.
  const ending: Storage = Object.assign(Object.create(store) as Storage, {
    put: async (key: string, body: Readable, putOpts?: PutOptions) => {
      const r = await store.put(key, body, putOpts);
      await src.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'lifeboat' AND datname = 'shop' AND state LIKE 'idle in transaction%'`);
      return r;
    },
  });
  const ctx = { env: process.env, logger: silentLogger(), now: () => new Date(), signal: new AbortController().signal, stderr: { write: () => true } as unknown as NodeJS.WriteStream };
  const failure = await runBackup({ conn: parseDatabaseUrl(src.url('shop')), storage: ending, requestedClass: 'manual' }, { ctx }).then(
    () => null,
    (e: unknown) => e as LifeboatError,
  );
  assert.ok(failure, 'the backup failed');
  assert.equal(failure.code, 'snapshot_session_lost');
  assert.match(failure.message, /^the backup's snapshot session \(its connection to 127\.0\.0\.1:\d+\/shop, application_name lifeboat, which holds the dump's snapshot open\) ended while ending the snapshot's transaction after the payload was stored: .*; no manifest was written$/);
  assert.match(failure.hint!, /idle_in_transaction_session_timeout/);
});

test('--data-only into a schema restored with --schema-only loads parents first, in one transaction: a failure leaves it empty and a retry works', async () => {
  const schema = await runCli(['restore', backupId, '--storage', storage, '--target-url', fresh.url('shop_layers'), '--create', '--schema-only']);
  assert.equal(schema.code, 0, schema.stderr);
  // A check the source's rows break makes the load fail half-way (orders load after customers).
  await fresh.query(`ALTER TABLE sales.orders ADD CONSTRAINT small_totals CHECK (total < 100)`, 'shop_layers');
  const failed = await runCli(['restore', backupId, '--storage', storage, '--target-url', fresh.url('shop_layers'), '--data-only']);
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(String(finalEvent(failed.stderr)!.message), /small_totals.*"shop_layers" is as it was \(the data loads in one transaction\)/);
  const counts = await fresh.query<{ c: string; o: string; i: string }>(
    `SELECT (SELECT count(*) FROM sales.customers) AS c, (SELECT count(*) FROM sales.orders) AS o, (SELECT count(*) FROM sales.invoices) AS i`,
    'shop_layers',
  );
  assert.deepEqual(counts[0], { c: '0', o: '0', i: '0' });

  await fresh.query(`ALTER TABLE sales.orders DROP CONSTRAINT small_totals`, 'shop_layers');
  const retried = await runCli(['restore', backupId, '--storage', storage, '--target-url', fresh.url('shop_layers'), '--data-only']);
  assert.equal(retried.code, 0, retried.stderr);
  assert.deepEqual((await snapshotOf(fresh, 'shop_layers')).data, (await snapshotOf(src, 'shop')).data);
});

test("restore --table --clean replaces a table that a view and another table's foreign key depend on; a key the target's rows break is left out and named", async () => {
  const r0 = await runCli(['restore', backupId, '--storage', storage, '--target-url', fresh.url('shop_tables'), '--create']);
  assert.equal(r0.code, 0, r0.stderr);
  const source = await tableChecksums(src, 'shop');
  // sales.orders: the view sales.order_totals is built on it, sales.invoices references it.
  await fresh.query(`DELETE FROM sales.invoices; DELETE FROM sales.orders WHERE id > 100`, 'shop_tables');
  const ok = await runCli(['restore', backupId, '--storage', storage, '--target-url', fresh.url('shop_tables'), '--table', 'sales.orders', '--clean', '--yes']);
  assert.equal(ok.code, 0, ok.stderr);
  const after = await tableChecksums(fresh, 'shop_tables');
  assert.equal(after['sales.orders'], source['sales.orders']);
  // The view and the foreign key are still there, as in the source.
  assert.equal(schemaDump(fresh, 'shop_tables'), schemaDump(src, 'shop'));

  // An invoice of an order the backup does not have: the foreign key cannot be made again, so it is left out and
  // named; the table is restored, owners, grants and policies included (test/runner/table-restore.int.test.ts has
  // the restores that fail and leave the target as it was).
  await fresh.query(`INSERT INTO sales.orders (id, customer_id, total, owner_name) VALUES (100000, 1, 1, 'x'); INSERT INTO sales.invoices (order_id, note) VALUES (100000, 'late')`, 'shop_tables');
  const invoices = (await tableChecksums(fresh, 'shop_tables'))['sales.invoices'];
  const r = await runCli(['restore', backupId, '--storage', storage, '--target-url', fresh.url('shop_tables'), '--table', 'sales.orders', '--clean', '--yes']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(finalEvent(r.stderr)!.foreignKeysSkipped, ['sales.invoices.invoices_order_id_fkey']);
  assert.match(r.stdout, /foreign key left out: sales\.invoices\.invoices_order_id_fkey/);
  const data = await tableChecksums(fresh, 'shop_tables');
  assert.equal(data['sales.orders'], source['sales.orders']);
  assert.equal(data['sales.invoices'], invoices);
  const fk = /--\n-- Name: invoices invoices_order_id_fkey; Type: FK CONSTRAINT;[^]*?;\n\n\n/;
  assert.match(schemaDump(src, 'shop'), fk);
  assert.equal(schemaDump(fresh, 'shop_tables'), schemaDump(src, 'shop').replace(fk, ''));
});

test('verify --restore-into checks the roles as restore does: refused without them, naming them; --roles creates them and drops them afterwards', async () => {
  // A server of its own: earlier tests gave the roles to `fresh`.
  const bare = await startPostgres();
  try {
    const rolesBefore = await roleNames(bare);
    const dbsBefore = await databases(bare);
    const refused = await runCli(['verify', backupId, '--storage', storage, '--restore-into', bare.url('shop_verify')]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(finalEvent(refused.stderr)!.errorCode, 'roles_missing');
    assert.match(String(finalEvent(refused.stderr)!.message), /shop_owner \(.*nothing was changed/);
    assert.match(refused.stderr, /--roles/);
    assert.deepEqual(await databases(bare), dbsBefore);

    const ok = await runCli(['verify', backupId, '--storage', storage, '--restore-into', bare.url('shop_verify'), '--roles', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const report = JSON.parse(ok.stdout);
    assert.equal(report.scratch, 'created-and-dropped');
    assert.ok(report.rolesCreated.includes('shop_owner'), ok.stdout);
    assert.ok(report.tables.every((t: { ok: boolean }) => t.ok));
    assert.deepEqual(await roleNames(bare), rolesBefore);
    assert.deepEqual(await databases(bare), dbsBefore);
  } finally {
    await bare.stop();
  }
});
