import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { finalEvent, runCli } from '../runner/cli-harness';
import { RICH_DATA_SQL, RICH_SCHEMA_SQL, schemaDump, tableChecksums } from '../runner/pg-fixtures';

// Two servers: clones within one, and across to another that lacks the source's roles.
let pg: PgCluster;
let other: PgCluster;
let tmp: string;
let source: Record<string, string>;

before(async () => {
  [pg, other] = await Promise.all([startPostgres(), startPostgres()]);
  await pg.createDatabase('shop');
  await pg.query(`CREATE ROLE shop_owner; ${RICH_SCHEMA_SQL} ${RICH_DATA_SQL} ALTER TABLE public.empty_table OWNER TO shop_owner;`, 'shop');
  source = await tableChecksums(pg, 'shop');
  tmp = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-clone-tmp-'));
});
after(async () => {
  await Promise.all([pg?.stop(), other?.stop()]);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function databases(c: PgCluster): Promise<string[]> {
  return (await c.query<{ d: string }>('SELECT datname AS d FROM pg_database ORDER BY 1')).map((r) => r.d);
}

test('clone --create streams the database into a new one: same data, same schema, row counts checked', async () => {
  const r = await runCli(['clone', '--from', pg.url('shop'), '--to', pg.url('shop_copy'), '--create']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /sales\.orders\s+2000\s+2000\s+ok/);
  assert.deepEqual(await tableChecksums(pg, 'shop_copy'), source);
  assert.equal(schemaDump(pg, 'shop_copy'), schemaDump(pg, 'shop'));
  const ev = finalEvent(r.stderr)!;
  assert.equal(ev.event, 'clone.succeeded');
  assert.equal(ev.source, 'shop');
  assert.ok((ev.rawBytes as number) > 100_000, String(ev.rawBytes));
  assert.doesNotMatch(r.stdout + r.stderr, new RegExp(pg.password));
});

test('clone --jobs 2 into an existing empty database goes through a temp folder, which is removed', async () => {
  await pg.createDatabase('shop_parallel');
  const r = await runCli(['clone', '--from', pg.url('shop'), '--to', pg.url('shop_parallel'), '--jobs', '2', '--json'], { LIFEBOAT_TMPDIR: tmp });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { ok: boolean; mode: string; tables: { ok: boolean }[] };
  assert.equal(out.ok, true);
  assert.equal(out.mode, 'directory');
  assert.equal(out.tables.length, 6);
  assert.deepEqual(await tableChecksums(pg, 'shop_parallel'), source);
  assert.deepEqual(readdirSync(tmp), []);
});

test('refusals change nothing: a non-empty target, --create of an existing database, a clone onto itself, --clean without --yes', async () => {
  const before = await tableChecksums(pg, 'shop_copy');
  await pg.query(`UPDATE sales.customers SET name = 'changed' WHERE id = 1`, 'shop_copy');
  const changed = await tableChecksums(pg, 'shop_copy');
  const cases: [string[], RegExp][] = [
    [['--to', pg.url('shop_copy')], /target database "shop_copy" already has 7 user tables; nothing was changed/],
    [['--to', pg.url('shop_copy'), '--create'], /database "shop_copy" already exists/],
    [['--to', pg.url('shop')], /--from and --to name the same database/],
    // The same database spelt another way (localhost, not 127.0.0.1): with --clean it would drop what it reads.
    [['--to', pg.url('shop').replace('@127.0.0.1:', '@localhost:'), '--clean', '--yes'], /--from and --to name the same database \("shop" on the server of 127\.0\.0\.1:\d+\/shop\); nothing was changed/],
    [['--to', pg.url('shop_copy'), '--clean'], /--clean drops the objects/],
    [['--to', pg.url('no_such_db')], /target database "no_such_db" does not exist.*--create/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(['clone', '--from', pg.url('shop'), ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(finalEvent(r.stderr)!.event, 'clone.failed');
  }
  assert.deepEqual(await tableChecksums(pg, 'shop_copy'), changed);
  assert.notDeepEqual(changed, before);
  assert.ok(!(await databases(pg)).includes('no_such_db'));
});

test('clone --clean --yes replaces the copied objects in a non-empty target', async () => {
  const r = await runCli(['clone', '--from', pg.url('shop'), '--to', pg.url('shop_copy'), '--clean', '--yes']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await tableChecksums(pg, 'shop_copy'), source);
});

test('across servers: a role the target lacks fails the clone and the created database is dropped; --no-owner succeeds', async () => {
  const before = await databases(other);
  const failed = await runCli(['clone', '--from', pg.url('shop'), '--to', other.url('shop_dr'), '--create']);
  assert.equal(failed.code, 1, failed.stderr);
  const line = failed.stderr.split('\n').find((l) => l.startsWith('lifeboat: '))!;
  assert.match(line, /pg_restore exited with code 1.*role "shop_owner" does not exist/);
  assert.match(line, /the database "shop_dr" it created was dropped/);
  assert.deepEqual(await databases(other), before);

  // Into an existing empty database: what the failed clone added is removed again.
  await other.createDatabase('shop_empty');
  const intoEmpty = await runCli(['clone', '--from', pg.url('shop'), '--to', other.url('shop_empty')]);
  assert.equal(intoEmpty.code, 1, intoEmpty.stderr);
  assert.match(intoEmpty.stderr, /what it had added to "shop_empty" was removed/);
  const left = await other.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`,
    'shop_empty',
  );
  assert.equal(left[0]!.n, '0');

  const ok = await runCli(['clone', '--from', pg.url('shop'), '--to', other.url('shop_dr'), '--create', '--no-owner']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(await tableChecksums(other, 'shop_dr'), source);
  assert.doesNotMatch(failed.stderr + ok.stderr, new RegExp(`${pg.password}|${other.password}`));
});
