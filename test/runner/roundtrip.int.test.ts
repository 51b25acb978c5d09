import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { runBackup } from '../../runner/commands/backup';
import { restoreBackup } from '../../runner/commands/restore';
import { ManifestSchema, type Manifest } from '../../runner/contract/manifest';
import { silentLogger } from '../../runner/log';
import { parseDatabaseUrl } from '../../runner/pg/connection';
import { defaultSpawner } from '../../runner/pipeline/spawn';
import { LocalStorage } from '../../runner/storage/local';
import { finalEvent, runCli } from './cli-harness';
import { RICH_DATA_SQL, RICH_SCHEMA_SQL, schemaDump, tableChecksums } from './pg-fixtures';

let pg: PgCluster;
let storage: string;
let manifest: Manifest;

before(async () => {
  pg = await startPostgres();
  await pg.createDatabase('shop');
  await pg.query(RICH_SCHEMA_SQL + RICH_DATA_SQL, 'shop');
  storage = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-rt-'));
});
after(async () => {
  await pg?.stop();
  if (storage) rmSync(storage, { recursive: true, force: true });
});

test('backup stores a payload and a manifest with exact row counts of the leaf tables', async () => {
  const r = await runCli(['backup', '--storage', storage, '--database-url', pg.url('shop'), '--class', 'manual', '--json']);
  assert.equal(r.code, 0, r.stderr);
  manifest = ManifestSchema.parse(JSON.parse(r.stdout));
  assert.equal(manifest.kind, 'full');
  assert.equal(manifest.class, 'manual');
  assert.equal(manifest.source, 'shop');
  assert.equal(manifest.payload.object, 'dump.pgc.zst');
  assert.equal(manifest.payload.compression, 'zstd');
  assert.ok(manifest.payload.rawBytes > manifest.payload.storedBytes, 'zstd made the payload smaller');
  assert.match(manifest.tools.pg_dump!, /^\d+\.\d+/);
  assert.match(manifest.tools.zstd!, /^\d+\.\d+\.\d+$/);
  const counts = Object.fromEntries(manifest.tables.map((t) => [`${t.schema}.${t.name}`, t.rows]));
  assert.deepEqual(counts, {
    'Audit Log.Weird "Table".Name': 3,
    'public.empty_table': 0,
    'public.events_2025': 1711,
    'public.events_2026': 2289,
    'sales.customers': 300,
    'sales.orders': 2000,
  });
  const ev = finalEvent(r.stderr)!;
  assert.equal(ev.event, 'backup.succeeded');
  assert.equal(ev.backupId, manifest.id);
  assert.equal(ev.bytes, manifest.payload.storedBytes);
  assert.doesNotMatch(r.stdout + r.stderr, new RegExp(pg.password));
});

test('list shows the backup', async () => {
  const r = await runCli(['list', '--storage', storage]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^id\s+source\s+class\s+kind\s+size\s+created\s+age$/);
  assert.match(lines[1]!, new RegExp(`^${manifest.id}\\s+shop\\s+manual\\s+full\\s+[\\d.]+ KiB`));
  const j = await runCli(['list', '--storage', storage, '--json']);
  assert.deepEqual((JSON.parse(j.stdout) as { id: string }[]).map((x) => x.id), [manifest.id]);
});

test('restore --create gives back the same schema and the same data, table by table', async () => {
  const r = await runCli(['restore', manifest.id, '--storage', storage, '--target-url', pg.url('shop_restored'), '--create', '--jobs', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /sales\.orders\s+2000\s+2000\s+ok/);
  assert.doesNotMatch(r.stdout, /MISMATCH|missing/);
  assert.equal(schemaDump(pg, 'shop_restored'), schemaDump(pg, 'shop'));
  assert.deepEqual(await tableChecksums(pg, 'shop_restored'), await tableChecksums(pg, 'shop'));
  const seq = await pg.query<{ v: string }>('SELECT last_value AS v FROM sales.invoice_no', 'shop_restored');
  assert.equal(seq[0]!.v, '99999');
  assert.equal(finalEvent(r.stderr)!.event, 'restore.succeeded');
});

test('restore --table restores only that table (quoted names, bare or qualified)', async () => {
  await pg.createDatabase('one_table');
  const r = await runCli([
    'restore', 'latest', '--storage', storage, '--target-url', pg.url('one_table'),
    '--table', '"Audit Log"."Weird ""Table"".Name"', '--table', 'customers',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const tables = await pg.query<{ t: string }>(
    `SELECT n.nspname || '.' || c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
    'one_table',
  );
  assert.deepEqual(tables.map((t) => t.t), ['Audit Log.Weird "Table".Name', 'sales.customers']);
  assert.match(r.stdout, /sales\.customers\s+300\s+300\s+ok/);
  // A usable table: its keys, unique constraint, default from its own sequence at the backed-up value.
  const cons = await pg.query<{ c: string }>(`SELECT conname AS c FROM pg_constraint WHERE conrelid = 'sales.customers'::regclass ORDER BY 1`, 'one_table');
  assert.deepEqual(cons.map((c) => c.c), ['customers_email_key', 'customers_pkey']);
  const ins = await pg.query<{ id: string }>(`INSERT INTO sales.customers (name) VALUES ('new') RETURNING id`, 'one_table');
  assert.equal(ins[0]!.id, '301');
  await assert.rejects(pg.query(`INSERT INTO sales.customers (name, email) VALUES ('dup', 'c1@example.com')`, 'one_table'), /customers_email_key/);
});

test('restore --table of a table with a standalone sequence, an index, a trigger and a foreign key, into an empty database', async () => {
  // pg_restore -t alone fails here (the sequence of its default is not restored) and would drop the rest.
  await pg.createDatabase('orders_only');
  const r = await runCli(['restore', manifest.id, '--storage', storage, '--target-url', pg.url('orders_only'), '--table', 'sales.orders']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /sales\.orders\s+2000\s+2000\s+ok/);
  const idx = await pg.query<{ i: string }>(`SELECT indexrelid::regclass::text AS i FROM pg_index WHERE indrelid = 'sales.orders'::regclass ORDER BY 1`, 'orders_only');
  assert.deepEqual(idx.map((x) => x.i), ['sales.orders_pkey', 'sales.orders_placed_idx']);
  const row = await pg.query<{ id: string; invoice: number }>(
    `INSERT INTO sales.orders (customer_id, total, placed_at) VALUES (1, 1, now()) RETURNING id, invoice`,
    'orders_only',
  );
  assert.deepEqual(row[0], { id: '2001', invoice: 100006 }, 'defaults continue from the backed-up sequence values');
  const upd = await pg.query<{ touched: boolean }>(`UPDATE sales.orders SET total = 2 WHERE id = 2001 RETURNING updated_at IS NOT NULL AS touched`, 'orders_only');
  assert.equal(upd[0]!.touched, true, 'the trigger and its function came along');
  // The foreign key to sales.customers, which was not restored, is left out and said so.
  assert.match(r.stderr, /not restored with the selected tables.*FK CONSTRAINT sales\.orders orders_customer_id_fkey/);
  const views = await pg.query(`SELECT 1 FROM pg_views WHERE schemaname = 'sales'`, 'orders_only');
  assert.deepEqual(views, []);
});

test('restore --clean --yes replaces the objects of a non-empty target and the counts match', async () => {
  await pg.query('DELETE FROM sales.orders WHERE id > 10', 'shop_restored');
  const r = await runCli(['restore', manifest.id, '--storage', storage, '--target-url', pg.url('shop_restored'), '--clean', '--yes']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await tableChecksums(pg, 'shop_restored'), await tableChecksums(pg, 'shop'));
});

test('a row-count mismatch after restore exits 1 and says which table', async () => {
  // A data-only restore into tables where a trigger drops rows: the restore succeeds, the counts do not match.
  await pg.createDatabase('lossy');
  await pg.query(RICH_SCHEMA_SQL, 'lossy');
  await pg.query(
    `CREATE FUNCTION public.drop_some() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF NEW.id % 10 = 0 THEN RETURN NULL; END IF; RETURN NEW; END $$;
     CREATE TRIGGER drop_some BEFORE INSERT ON public.events_2025 FOR EACH ROW EXECUTE FUNCTION public.drop_some();`,
    'lossy',
  );
  const r = await runCli([
    'restore', manifest.id, '--storage', storage, '--target-url', pg.url('lossy'), '--data-only', '--table', 'events_2025',
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /public\.events_2025\s+1711\s+\d+\s+MISMATCH/);
  const ev = finalEvent(r.stderr)!;
  assert.equal(ev.event, 'restore.failed');
  assert.match(String(ev.message), /events_2025/);
});

test('a schema-only backup restores the definitions and carries no row counts', async () => {
  const r = await runCli(['backup', '--storage', storage, '--database-url', pg.url('shop'), '--kind', 'schema', '--source', 'shop-schema', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const m = ManifestSchema.parse(JSON.parse(r.stdout));
  assert.equal(m.kind, 'schema');
  assert.ok(m.tables.every((t) => t.rows === null));
  const rr = await runCli(['restore', 'latest', '--source', 'shop-schema', '--storage', storage, '--target-url', pg.url('shop_schema'), '--create']);
  assert.equal(rr.code, 0, rr.stderr);
  assert.equal(schemaDump(pg, 'shop_schema'), schemaDump(pg, 'shop'));
});

test('credentials reach pg_dump and pg_restore by environment only, never argv', async () => {
  const calls: { file: string; args: readonly string[]; env: NodeJS.ProcessEnv }[] = [];
  const spawner: typeof defaultSpawner = (file, args, opts) => {
    calls.push({ file, args, env: opts.env ?? {} });
    return defaultSpawner(file, args, opts);
  };
  const ctx = { env: process.env, logger: silentLogger(), now: () => new Date(), signal: new AbortController().signal, stderr: { write: () => true } };
  const storage2 = new LocalStorage(path.join(storage, 'spawn-check'));
  const b = await runBackup({ conn: parseDatabaseUrl(pg.url('shop')), storage: storage2, requestedClass: 'manual' }, { ctx, spawner });
  const r = await restoreBackup({ storage: storage2, ref: b.manifest.id, target: parseDatabaseUrl(pg.url('spawn_check')), create: true }, { ctx, spawner });
  assert.equal(r.ok, true);
  const tools = calls.filter((c) => /pg_(dump|restore)$/.test(c.file));
  // A whole restore into a new database streams: the post-data jobs' SQL rendered (into no database) while the
  // pre-data is restored, one data stream (--jobs 1), then the rest; the jobs run on the runner's own sessions.
  assert.equal(path.basename(tools[0]!.file), 'pg_dump');
  const steps = tools.slice(1).map((c) => path.basename(c.args.find((a) => a.startsWith('--use-list='))!).replace(/-\d+\.list$/, '-N.list'));
  assert.deepEqual([...new Set(steps)], ['jobs.list', 'pre.list', 'stream-N.list', 'rest.list']);
  for (const c of calls) assert.ok(!c.args.join(' ').includes(pg.password), `${c.file} argv carries the password`);
  const connecting = tools.filter((c) => c.args.some((a) => a.startsWith('--dbname=')) || path.basename(c.file) === 'pg_dump');
  assert.equal(connecting.length, tools.length - 1, 'all but the rendering connect');
  for (const c of connecting) assert.equal(c.env.PGPASSWORD, pg.password);
});

test('a zstd that fails mid-backup is what the backup reports (compress_failed with its message), and nothing is published', async () => {
  let frames = 0;
  // The second frame's zstd (the first data) reads a little, then fails as a full disk would make it.
  const spawner: typeof defaultSpawner = (file, args, opts) =>
    file === 'zstd' && ++frames === 2
      ? defaultSpawner('sh', ['-c', 'head -c 1000 >/dev/null; echo "zstd: error 70 : Write error : cannot write block : No space left on device" >&2; exit 1'], opts)
      : defaultSpawner(file, args, opts);
  const ctx = { env: process.env, logger: silentLogger(), now: () => new Date(), signal: new AbortController().signal, stderr: { write: () => true } };
  const root = path.join(storage, 'zstd-fails');
  await assert.rejects(
    runBackup({ conn: parseDatabaseUrl(pg.url('shop')), storage: new LocalStorage(root), requestedClass: 'manual' }, { ctx, spawner }),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'compress_failed');
      assert.match(e.message, /No space left on device/);
      return true;
    },
  );
  assert.deepEqual(await readdirRecursive(root), [], 'no payload, no manifest');
});

async function readdirRecursive(dir: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name);
  } catch {
    return [];
  }
}

test('a restore that fails half-way leaves no half-restored database behind, and says why and what to do', async () => {
  // A table owned by a role the target server no longer has: pg_restore stops at ALTER TABLE ... OWNER TO.
  await pg.query(`CREATE ROLE gone_owner; CREATE ROLE gone_reader`);
  await pg.createDatabase('owned');
  await pg.query(`CREATE TABLE first_one (id int PRIMARY KEY); INSERT INTO first_one VALUES (1);
                  CREATE TABLE owned_by_gone (id int); ALTER TABLE owned_by_gone OWNER TO gone_owner;
                  GRANT SELECT ON first_one TO gone_reader;`, 'owned');
  const b = await runCli(['backup', '--storage', storage, '--database-url', pg.url('owned'), '--class', 'manual', '--json']);
  assert.equal(b.code, 0, b.stderr);
  await pg.query(`DROP DATABASE owned`);
  await pg.query(`DROP ROLE gone_owner; DROP ROLE gone_reader`);

  // A backup that records its roles refuses such a target before anything is created, naming them.
  const refused = await runCli(['restore', 'latest', '--source', 'owned', '--storage', storage, '--target-url', pg.url('owned_copy'), '--create']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /lacks 2 roles the backup's objects name: gone_owner \(owner\), gone_reader \(grantee\); nothing was changed.*--roles/);
  assert.deepEqual(await pg.query(`SELECT 1 FROM pg_database WHERE datname = 'owned_copy'`), []);

  // One made before backups recorded their roles gets as far as pg_restore, which fails half-way.
  const made = JSON.parse(b.stdout) as Manifest;
  const folder = path.join(storage, 'manual', 'postgres', 'owned', made.id);
  const { globals: _recorded, ...older } = made;
  writeFileSync(path.join(folder, 'manifest.json'), JSON.stringify(older, null, 2));
  rmSync(path.join(folder, 'globals.json'));

  const r = await runCli(['restore', 'latest', '--source', 'owned', '--storage', storage, '--target-url', pg.url('owned_copy'), '--create']);
  assert.equal(r.code, 1, r.stderr);
  const line = r.stderr.split('\n').find((l) => l.startsWith('lifeboat: '))!;
  assert.match(line, /role "gone_owner" does not exist.*the database "owned_copy" it created was dropped.*pass --no-owner --no-privileges/);
  assert.deepEqual(await pg.query(`SELECT 1 FROM pg_database WHERE datname = 'owned_copy'`), []);

  await pg.createDatabase('owned_empty');
  const e = await runCli(['restore', 'latest', '--source', 'owned', '--storage', storage, '--target-url', pg.url('owned_empty')]);
  assert.equal(e.code, 1, e.stderr);
  assert.match(e.stderr, /what it had added to "owned_empty" was removed/);
  assert.deepEqual(await pg.query(`SELECT relname FROM pg_class WHERE relname IN ('first_one', 'owned_by_gone')`, 'owned_empty'), []);

  // --no-owner alone still fails on the grant to the missing role; with --no-privileges it restores.
  const owner = await runCli(['restore', 'latest', '--source', 'owned', '--storage', storage, '--target-url', pg.url('owned_copy'), '--create', '--no-owner']);
  assert.equal(owner.code, 1, owner.stderr);
  assert.match(owner.stderr, /role "gone_reader" does not exist/);
  const ok = await runCli(['restore', 'latest', '--source', 'owned', '--storage', storage, '--target-url', pg.url('owned_copy'), '--create', '--no-owner', '--no-privileges']);
  assert.equal(ok.code, 0, ok.stderr);
});

test('restore --json prints one JSON document: backup id, database, ok and the row-count comparison', async () => {
  const r = await runCli(['restore', manifest.id, '--storage', storage, '--target-url', pg.url('json_restored'), '--create', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { backupId: string; database: string; ok: boolean; tables: { schema: string; name: string; expected: number; actual: number; ok: boolean }[] };
  assert.equal(out.backupId, manifest.id);
  assert.equal(out.database, 'json_restored');
  assert.equal(out.ok, true);
  assert.deepEqual(out.tables.find((t) => t.name === 'orders'), { schema: 'sales', name: 'orders', expected: 2000, actual: 2000, ok: true });
  assert.equal(out.tables.length, manifest.tables.length);
});

test('progress: on a terminal backup and restore draw one updating line and clear it; off a terminal nothing', async () => {
  const store = new LocalStorage(path.join(storage, 'progress'));
  for (const isTTY of [true, false]) {
    let text = '';
    const stderr = { isTTY, write: (s: string) => ((text += s), true) };
    const ctx = { env: process.env, logger: silentLogger(), now: () => new Date(), signal: new AbortController().signal, stderr };
    const b = await runBackup({ conn: parseDatabaseUrl(pg.url('shop')), storage: store, requestedClass: 'manual' }, { ctx });
    await restoreBackup({ storage: store, ref: b.manifest.id, target: parseDatabaseUrl(pg.url(`progress_${isTTY}`)), create: true }, { ctx });
    if (isTTY) {
      assert.match(text, /\rbackup: [\d.]+ (B|KiB|MiB)\s+[\d.]+ (B|KiB|MiB)\/s\s+\d+%\s+ETA /);
      assert.match(text, /\rrestore: [\d.]+ (B|KiB|MiB)/);
      assert.ok(text.endsWith('\r\x1b[K'), 'the line is cleared at the end');
    } else {
      assert.equal(text, '');
    }
  }
});

test('a data backup restores into tables that exist (whole or --table), and refuses --create', async () => {
  const b = await runCli(['backup', '--storage', storage, '--database-url', pg.url('shop'), '--kind', 'data', '--source', 'shop-data', '--json']);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(ManifestSchema.parse(JSON.parse(b.stdout)).kind, 'data');
  await pg.createDatabase('data_all');
  await pg.query(RICH_SCHEMA_SQL, 'data_all');
  const all = await runCli(['restore', 'latest', '--source', 'shop-data', '--storage', storage, '--target-url', pg.url('data_all')]);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(await tableChecksums(pg, 'data_all'), await tableChecksums(pg, 'shop'));

  await pg.createDatabase('data_one');
  await pg.query(RICH_SCHEMA_SQL, 'data_one');
  const one = await runCli(['restore', 'latest', '--source', 'shop-data', '--storage', storage, '--target-url', pg.url('data_one'), '--table', 'sales.customers']);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /sales\.customers\s+300\s+300\s+ok/);
  const n = await pg.query<{ c: string; o: string }>(`SELECT (SELECT count(*) FROM sales.customers) AS c, (SELECT count(*) FROM sales.orders) AS o`, 'data_one');
  assert.deepEqual(n[0], { c: '300', o: '0' });

  const created = await runCli(['restore', 'latest', '--source', 'shop-data', '--storage', storage, '--target-url', pg.url('data_new'), '--create']);
  assert.equal(created.code, 2);
  assert.match(created.stderr, /is a data-only backup \(kind data\): --create does not apply/);
  const v = await runCli(['verify', 'latest', '--source', 'shop-data', '--storage', storage, '--restore-into', pg.url('data_scratch')]);
  assert.equal(v.code, 2);
  assert.match(v.stderr, /--restore-into cannot restore it into an empty scratch database/);
  assert.deepEqual(await pg.query(`SELECT datname FROM pg_database WHERE datname IN ('data_new', 'data_scratch')`), []);
});

test('classes per kind: a schema-only backup does not take the period of the full backups', async () => {
  const own = path.join(storage, 'kinds');
  const run = async (kind: string): Promise<string> => {
    const r = await runCli(['backup', '--storage', own, '--database-url', pg.url('shop'), '--kind', kind, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return ManifestSchema.parse(JSON.parse(r.stdout)).class;
  };
  assert.equal(await run('schema'), 'yearly');
  assert.equal(await run('full'), 'yearly', 'the first full backup of the year is the yearly one');
  assert.equal(await run('full'), 'daily');
});

test('latest is the newest full backup: a schema-only backup taken since is not what restore latest restores', async () => {
  const own = path.join(storage, 'latest-kinds');
  const full = await runCli(['backup', '--storage', own, '--database-url', pg.url('shop'), '--class', 'manual']);
  assert.equal(full.code, 0, full.stderr);
  const schema = await runCli(['backup', '--storage', own, '--database-url', pg.url('shop'), '--class', 'manual', '--kind', 'schema']);
  assert.equal(schema.code, 0, schema.stderr);
  const r = await runCli(['restore', 'latest', '--storage', own, '--target-url', pg.url('latest_full'), '--create', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { backupId: string; tables: { name: string; actual: number }[] };
  assert.equal(out.backupId, full.stdout.trim());
  assert.equal(out.tables.find((t) => t.name === 'orders')!.actual, 2000);
  // An id still restores exactly that backup.
  const s = await runCli(['restore', schema.stdout.trim(), '--storage', own, '--target-url', pg.url('latest_schema'), '--create', '--json']);
  assert.equal(s.code, 0, s.stderr);
  assert.equal((JSON.parse(s.stdout) as { tables: unknown }).tables, null);
});
