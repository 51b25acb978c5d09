/**
 * `restore --table X --clean --yes` in place, on a pagila-like database (test/runner/pagila-fixture.ts) where every
 * table has something depending on it: the table comes back with its keys, indexes, triggers, the views on it,
 * the foreign keys into and out of it, and its partitions; afterwards the whole schema dump and every table's
 * data equal the source's. A foreign key of another table that the target's rows no longer allow is left out and
 * named; a restore that cannot replace its table leaves the target exactly as it was.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { finalEvent, runCli } from './cli-harness';
import { createPagilaSource } from './pagila-fixture';
import { schemaDump, tableChecksums } from './pg-fixtures';

let pg: PgCluster;
let storage: string;
let backupId: string;
let sourceSchema: string;
let sourceData: Record<string, string>;

before(async () => {
  pg = await startPostgres();
  await createPagilaSource(pg);
  storage = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-pagila-'));
  const r = await runCli(['backup', '--storage', storage, '--database-url', pg.url('pagila'), '--class', 'manual']);
  assert.equal(r.code, 0, r.stderr);
  backupId = r.stdout.trim();
  sourceSchema = schemaDump(pg, 'pagila');
  sourceData = await tableChecksums(pg, 'pagila');
});

after(async () => {
  await pg?.stop();
  if (storage) rmSync(storage, { recursive: true, force: true });
});

/** A copy of the source made by a whole restore, to replace tables in. */
async function copyOf(database: string): Promise<void> {
  const r = await runCli(['restore', backupId, '--storage', storage, '--target-url', pg.url(database), '--create']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(schemaDump(pg, database), sourceSchema);
}

function restoreTable(database: string, table: string, ...more: string[]): ReturnType<typeof runCli> {
  return runCli(['restore', backupId, '--storage', storage, '--target-url', pg.url(database), '--table', table, '--clean', '--yes', ...more]);
}

/** The source's schema dump without the named foreign keys ("table constraint" as pg_dump's headers say). */
function withoutForeignKeys(schema: string, keys: readonly string[]): string {
  let out = schema;
  for (const k of keys) {
    const before = out;
    out = out.replace(new RegExp(`--\\n-- Name: ${k}; Type: FK CONSTRAINT;[^]*?;\\n\\n\\n`), '');
    assert.notEqual(out, before, `${k} is in the source's schema`);
  }
  return out;
}

// Each table is changed in the copy (rows the backup does not have, values it does not have), then replaced:
// the copy is the source again, schema and data, every other table untouched.
const CASES: { table: string; why: string; change: string }[] = [
  { table: 'public.film', why: 'foreign keys into it from film_actor and inventory, one out to language, views (and a view on a view) on it, a trigger', change: `UPDATE public.film SET title = title || ' (changed)', rental_rate = 0.5 WHERE film_id % 3 = 0` },
  { table: 'public.actor', why: 'a foreign key into it, the view film_list on it', change: `UPDATE public.actor SET last_name = 'Nobody'` },
  { table: 'public.store', why: 'a foreign-key cycle with staff, and keys into it from customer and inventory', change: `UPDATE public.store SET manager_staff_id = 3 WHERE store_id = 1` },
  // session_replication_role: change rental without its audit trigger (and keys) firing, so rental_audit stays the source's.
  { table: 'public.rental', why: 'a trigger that writes to rental_audit, keys into it from the partitioned payment', change: `SET session_replication_role = replica; UPDATE public.rental SET staff_id = 1 WHERE rental_id % 2 = 0` },
  { table: 'public.payment', why: 'a partitioned table, named by its parent: four partitions, attached indexes and keys, keys out of it, a view on it', change: `UPDATE public.payment SET amount = 0; DELETE FROM public.payment WHERE payment_id % 5 = 0` },
  { table: 'public.payment_p2022_02', why: 'one partition, attached to a parent the target keeps', change: `DELETE FROM public.payment_p2022_02 WHERE payment_id % 2 = 0; UPDATE public.payment_p2022_02 SET amount = 9` },
];

test('each table restored in place with --clean --yes gives back the source: the whole schema dump and every table', async () => {
  await copyOf('pagila_each');
  for (const c of CASES) {
    await pg.query(c.change, 'pagila_each');
    assert.notDeepEqual(await tableChecksums(pg, 'pagila_each'), sourceData, `${c.table}: the change changed something`);
    const r = await restoreTable('pagila_each', c.table, '--json');
    assert.equal(r.code, 0, `${c.table} (${c.why}): ${r.stderr}`);
    assert.deepEqual(JSON.parse(r.stdout).foreignKeysSkipped, [], c.table);
    assert.equal(schemaDump(pg, 'pagila_each'), sourceSchema, `${c.table} (${c.why}): schema`);
    assert.deepEqual(await tableChecksums(pg, 'pagila_each'), sourceData, `${c.table} (${c.why}): data`);
  }
});

test("a foreign key into the table that the target's rows no longer allow is left out and named; the others come back", async () => {
  await copyOf('pagila_fk');
  // A film the backup does not have, with an actor: film_actor's key into film cannot be made again; inventory's can.
  await pg.query(`INSERT INTO public.film (film_id, title, language_id) VALUES (100000, 'New', 1); INSERT INTO public.film_actor VALUES (1, 100000); UPDATE public.film SET title = 'x'`, 'pagila_fk');
  const r = await restoreTable('pagila_fk', 'public.film', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).foreignKeysSkipped, ['public.film_actor.film_actor_film_id_fkey']);
  const event = finalEvent(r.stderr)!;
  assert.equal(event.event, 'restore.succeeded');
  assert.deepEqual(event.foreignKeysSkipped, ['public.film_actor.film_actor_film_id_fkey']);
  assert.match(String(event.message), /foreign keys left out: public\.film_actor\.film_actor_film_id_fkey/);
  assert.match(r.stderr, /"severity":"WARNING".*foreign key left out: public\.film_actor\.film_actor_film_id_fkey/);
  assert.equal(schemaDump(pg, 'pagila_fk'), withoutForeignKeys(sourceSchema, ['film_actor film_actor_film_id_fkey']));
  const data = await tableChecksums(pg, 'pagila_fk');
  assert.equal(data['public.film'], sourceData['public.film']);
  // The film the backup lacks is gone; its film_actor row stays, as the target had it.
  assert.deepEqual(await pg.query(`SELECT count(*)::int AS n FROM public.film_actor WHERE film_id = 100000`, 'pagila_fk'), [{ n: 1 }]);

  // A referenced table the target no longer has: the table's own key to it is left out and named too.
  await pg.query(`DROP TABLE public.language CASCADE`, 'pagila_fk');
  const r2 = await restoreTable('pagila_fk', 'public.film', '--json');
  assert.equal(r2.code, 0, r2.stderr);
  // (film_actor's key, left out above, is no longer the target's: it is not tried again.)
  assert.deepEqual(JSON.parse(r2.stdout).foreignKeysSkipped, ['public.film.film_language_id_fkey']);
  assert.equal((await tableChecksums(pg, 'pagila_fk'))['public.film'], sourceData['public.film']);
});

test('a restore that cannot replace its table leaves the target exactly as it was, schema and data', async () => {
  await copyOf('pagila_fail');
  const state = async (): Promise<{ schema: string; data: Record<string, string> }> => ({ schema: schemaDump(pg, 'pagila_fail'), data: await tableChecksums(pg, 'pagila_fail') });

  // A view of the target's that the backup does not have: dropping film would drop it.
  await pg.query(`UPDATE public.film SET title = 'changed'; CREATE VIEW public.cheap_films AS SELECT film_id, title FROM public.film WHERE rental_rate < 1`, 'pagila_fail');
  let before = await state();
  let r = await restoreTable('pagila_fail', 'public.film');
  assert.equal(r.code, 1, r.stderr);
  assert.match(String(finalEvent(r.stderr)!.message), /cannot drop table public\.film because other objects depend on it \(view public\.cheap_films depends on table public\.film\); "pagila_fail" is as it was/);
  assert.deepEqual(await state(), before);
  await pg.query(`DROP VIEW public.cheap_films`, 'pagila_fail');

  // A CHECK on the partitioned parent that the backup's rows of one partition break: attaching it again fails.
  await pg.query(`UPDATE public.payment SET amount = 1; ALTER TABLE public.payment ADD CONSTRAINT payment_small CHECK (amount < 2)`, 'pagila_fail');
  before = await state();
  r = await restoreTable('pagila_fail', 'public.payment_p2022_02');
  assert.equal(r.code, 1, r.stderr);
  assert.match(String(finalEvent(r.stderr)!.message), /payment_small.*"pagila_fail" is as it was/);
  assert.deepEqual(await state(), before);

  // The same CHECK, with the partitioned table named by its parent: the backup's payment has no such CHECK, so
  // replacing the whole tree removes it (the backup's definition wins) and succeeds.
  r = await restoreTable('pagila_fail', 'public.payment');
  assert.equal(r.code, 0, r.stderr);
  for (const t of ['payment_p2022_01', 'payment_p2022_02', 'payment_p2022_03', 'payment_p2022_04']) {
    assert.equal((await tableChecksums(pg, 'pagila_fail'))[`public.${t}`], sourceData[`public.${t}`]);
  }
});

test('backup --table of a partitioned table includes its partitions, and its manifest records them', async () => {
  const tables = ['public.payment', 'public.customer', 'public.staff', 'public.rental', 'public.store', 'public.inventory', 'public.film', 'public.language'];
  const b = await runCli(['backup', '--storage', storage, '--database-url', pg.url('pagila'), '--class', 'manual', ...tables.flatMap((t) => ['--table', t])]);
  assert.equal(b.code, 0, b.stderr);
  const id = b.stdout.trim();
  const manifest = JSON.parse(readFileSync(path.join(storage, 'manual', 'postgres', 'pagila', id, 'manifest.json'), 'utf8'));
  const partitions = manifest.tables.filter((t: { partitionOf?: unknown }) => t.partitionOf);
  assert.deepEqual(
    partitions.map((t: { name: string; rows: number; partitionOf: unknown }) => [t.name, t.rows > 0, t.partitionOf]),
    [1, 2, 3, 4].map((i) => [`payment_p2022_0${i}`, true, [{ schema: 'public', name: 'payment' }]]),
  );
  assert.ok(manifest.selectedTables.includes('public.payment_p2022_03'));
  // The full backup's manifest records them too.
  const full = JSON.parse(readFileSync(path.join(storage, 'manual', 'postgres', 'pagila', backupId, 'manifest.json'), 'utf8'));
  assert.equal(full.tables.filter((t: { partitionOf?: unknown }) => t.partitionOf).length, 4);

  // Restored by its parent from the --table backup (which has no view on payment: the target's is dropped first).
  await copyOf('pagila_tables');
  await pg.query(`DROP VIEW public.customer_payments; UPDATE public.payment SET amount = 0`, 'pagila_tables');
  const r = await runCli(['restore', id, '--storage', storage, '--target-url', pg.url('pagila_tables'), '--table', 'public.payment', '--clean', '--yes']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await tableChecksums(pg, 'pagila_tables'), sourceData);
});

test('a restore that psql stops at an error ends, even with megabytes of rows still to come from pg_restore', async () => {
  // More rows than the pipe and the runner's buffers hold while psql connects: pg_restore must be stopped, not left
  // blocked on a pipe nobody reads.
  await pg.query('CREATE DATABASE bigsrc');
  await pg.query(`CREATE TABLE public.big (id int PRIMARY KEY, t text); INSERT INTO public.big SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 60000) g`, 'bigsrc');
  const b = await runCli(['backup', '--storage', storage, '--database-url', pg.url('bigsrc'), '--class', 'manual']);
  assert.equal(b.code, 0, b.stderr);
  const id = b.stdout.trim();
  const r0 = await runCli(['restore', id, '--storage', storage, '--target-url', pg.url('bigcopy'), '--create']);
  assert.equal(r0.code, 0, r0.stderr);
  await pg.query(`CREATE VIEW public.big_view AS SELECT id FROM public.big; DELETE FROM public.big WHERE id > 10`, 'bigcopy');
  const before = { schema: schemaDump(pg, 'bigcopy'), data: await tableChecksums(pg, 'bigcopy') };
  const r = await runCli(['restore', id, '--storage', storage, '--target-url', pg.url('bigcopy'), '--table', 'public.big', '--clean', '--yes']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(String(finalEvent(r.stderr)!.message), /psql exited with code 3: .*cannot drop table public\.big .*view public\.big_view depends on table public\.big/);
  assert.deepEqual({ schema: schemaDump(pg, 'bigcopy'), data: await tableChecksums(pg, 'bigcopy') }, before);
});
