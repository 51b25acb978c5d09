/**
 * Selective restores through the TOC: which entries come with a table. The fixtures are pg_restore 15's
 * `--list --verbose` and `--schema-only --verbose` headers of the rich round-trip database (pg-fixtures.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describeEntry, mergeToc, parseTocList, parseTocScript, selectTocEntries, useListText, type TocEntry } from '../../runner/pg/toc';

const dir = path.join(__dirname, 'fixtures');
const entries = mergeToc(parseTocList(readFileSync(path.join(dir, 'rich-toc.list'), 'utf8')), parseTocScript(readFileSync(path.join(dir, 'rich-toc.headers'), 'utf8')));

/** An empty target: only `public` exists. */
const emptyTarget = async (e: TocEntry): Promise<boolean> => e.type === 'SCHEMA' && e.name === 'public';

function names(ids: number[]): string[] {
  return ids.map((id) => describeEntry(entries.find((e) => e.id === id)!));
}

test('parse: types with spaces, names with spaces and quotes, dependencies', () => {
  const byId = new Map(entries.map((e) => [e.id, e]));
  const weird = entries.find((e) => e.type === 'TABLE' && e.schema === 'Audit Log')!;
  assert.equal(weird.name, 'Weird "Table".Name');
  assert.deepEqual(weird.deps, [entries.find((e) => e.type === 'SCHEMA' && e.name === 'Audit Log')!.id]);
  const fk = entries.find((e) => e.type === 'FK CONSTRAINT')!;
  assert.equal(fk.name, 'orders orders_customer_id_fkey');
  assert.equal(fk.deps.length, 3);
  assert.ok(entries.some((e) => e.type === 'TABLE DATA' && e.deps.every((d) => byId.get(d)?.type === 'TABLE')));
  assert.ok(entries.some((e) => e.type === 'SEQUENCE OWNED BY'));
  assert.ok(entries.some((e) => e.type === 'TABLE ATTACH'));
  assert.equal(useListText([3, 17]), '3;\n17;\n');
});

test('one table into an empty database: its sequences, defaults, keys, indexes, trigger and what they need; not its foreign key to a table left out', async () => {
  const s = await selectTocEntries(entries, [{ schema: 'sales', name: 'orders' }], emptyTarget);
  assert.deepEqual(names(s.ids), [
    'SCHEMA sales',
    'FUNCTION sales.touch()',
    'SEQUENCE sales.invoice_no',
    'TABLE sales.orders',
    'SEQUENCE sales.orders_id_seq',
    'SEQUENCE OWNED BY sales.orders_id_seq',
    'DEFAULT sales.orders id',
    'TABLE DATA sales.orders',
    'SEQUENCE SET sales.invoice_no',
    'SEQUENCE SET sales.orders_id_seq',
    'CONSTRAINT sales.orders orders_pkey',
    'INDEX sales.orders_placed_idx',
    'TRIGGER sales.orders orders_touch',
  ]);
  assert.deepEqual(s.skipped.map(describeEntry), ['FK CONSTRAINT sales.orders orders_customer_id_fkey']);
  assert.deepEqual(s.added.map(describeEntry).sort(), ['FUNCTION sales.touch()', 'SCHEMA sales', 'SEQUENCE sales.invoice_no']);
});

test('objects the target already has are used, not restored again (nor their values reset)', async () => {
  const has = new Set(['SCHEMA sales', 'FUNCTION sales.touch()', 'SEQUENCE sales.invoice_no']);
  const s = await selectTocEntries(entries, [{ schema: 'sales', name: 'orders' }], async (e) => has.has(describeEntry(e)));
  const got = names(s.ids);
  for (const n of has) assert.ok(!got.includes(n), n);
  assert.ok(!got.includes('SEQUENCE SET sales.invoice_no'));
  assert.ok(got.includes('SEQUENCE SET sales.orders_id_seq'), 'the table\'s own sequence comes with it');
  assert.ok(got.includes('TRIGGER sales.orders orders_touch'));
  assert.deepEqual(s.added, []);
});

test('two related tables: the foreign key between them comes along; no view, no other table', async () => {
  const s = await selectTocEntries(entries, [{ schema: 'sales', name: 'orders' }, { schema: 'sales', name: 'customers' }], emptyTarget);
  const got = names(s.ids);
  assert.ok(got.includes('FK CONSTRAINT sales.orders orders_customer_id_fkey'));
  assert.ok(got.includes('CONSTRAINT sales.customers customers_email_key'));
  assert.ok(got.includes('SEQUENCE SET sales.customers_id_seq'));
  assert.ok(!got.some((n) => n.startsWith('VIEW ') || n.includes('events') || n.includes('Audit')), got.join('\n'));
  assert.deepEqual(s.skipped, []);
});

test('a partition alone: its data, not the ATTACH to a parent that is not restored (reported)', async () => {
  const s = await selectTocEntries(entries, [{ schema: 'public', name: 'events_2025' }], emptyTarget);
  assert.deepEqual(names(s.ids), ['TABLE public.events_2025', 'TABLE DATA public.events_2025']);
  assert.deepEqual(s.skipped.map(describeEntry), ['TABLE ATTACH public.events_2025']);
});

test('a quoted name in a schema with a space', async () => {
  const s = await selectTocEntries(entries, [{ schema: 'Audit Log', name: 'Weird "Table".Name' }], emptyTarget);
  assert.deepEqual(names(s.ids), [
    'SCHEMA Audit Log',
    'TABLE Audit Log.Weird "Table".Name',
    'TABLE DATA Audit Log.Weird "Table".Name',
    'CONSTRAINT Audit Log.Weird "Table".Name Weird "Table".Name_pkey',
  ]);
});

test('a table the archive does not have is an error naming it', async () => {
  await assert.rejects(selectTocEntries(entries, [{ schema: 'sales', name: 'nope' }], emptyTarget), /0 entries for table sales\.nope/);
});

test('a partition keeps its own index and primary key without its parent (only their ATTACH needs the parent)', async () => {
  const e = (id: number, type: string, name: string, deps: number[]): TocEntry => ({ id, type, label: `public ${name} postgres`, schema: 'public', name, deps });
  const toc = [
    e(10, 'TABLE', 'ev', []),
    e(11, 'TABLE', 'ev_2025', [10]),
    e(12, 'TABLE ATTACH', 'ev_2025', [11, 10]),
    e(13, 'TABLE DATA', 'ev_2025', [11]),
    e(20, 'INDEX', 'ev_v', [10]),
    e(21, 'INDEX', 'ev_2025_v_idx', [11, 20]),
    e(22, 'INDEX ATTACH', 'ev_2025_v_idx', [20, 21]),
    e(30, 'CONSTRAINT', 'ev ev_pkey', [10]),
    e(31, 'CONSTRAINT', 'ev_2025 ev_2025_pkey', [11, 30]),
    e(32, 'INDEX ATTACH', 'ev_2025_pkey', [30, 31]),
  ];
  const s = await selectTocEntries(toc, [{ schema: 'public', name: 'ev_2025' }], async () => false);
  assert.deepEqual(s.ids, [11, 13, 21, 31]);
  assert.deepEqual(s.skipped.map(describeEntry), ['TABLE ATTACH public.ev_2025']);
});

/** A partitioned ev with one partition, as pg_dump lists them. */
function partitionToc(): TocEntry[] {
  const e = (id: number, type: string, name: string, deps: number[]): TocEntry => ({ id, type, label: `public ${name} postgres`, schema: 'public', name, deps });
  return [
    e(10, 'TABLE', 'ev', []),
    e(11, 'TABLE', 'ev_2025', [10]),
    e(12, 'TABLE ATTACH', 'ev_2025', [11, 10]),
    e(13, 'TABLE DATA', 'ev_2025', [11]),
    e(20, 'INDEX', 'ev_v', [10]),
    e(21, 'INDEX', 'ev_2025_v_idx', [11, 20]),
    e(22, 'INDEX ATTACH', 'ev_2025_v_idx', [20, 21]),
    e(30, 'CONSTRAINT', 'ev ev_pkey', [10]),
    e(31, 'CONSTRAINT', 'ev_2025 ev_2025_pkey', [11, 30]),
    e(32, 'INDEX ATTACH', 'ev_2025_pkey', [30, 31]),
  ];
}

test('replacing a partition in a target that keeps its parent: its ATTACH entries come, marked as attaching to the target', async () => {
  const toc = partitionToc();
  const s = await selectTocEntries(toc, [{ schema: 'public', name: 'ev_2025' }], async (e) => e.name === 'ev', { replacing: true });
  assert.deepEqual(s.ids, [11, 12, 13, 21, 22, 31, 32]);
  assert.deepEqual(s.attachToTarget.map((e) => e.id), [12, 22, 32]);
  assert.deepEqual(s.skipped, []);
  assert.deepEqual(s.inbound, []);
});

test('a partitioned table named by its parent, with its partition: everything of both, nothing attaching to the target', async () => {
  const toc = partitionToc();
  const s = await selectTocEntries(toc, [{ schema: 'public', name: 'ev', partitioned: true }, { schema: 'public', name: 'ev_2025' }], async () => true, { replacing: true });
  assert.deepEqual(s.ids, toc.map((e) => e.id));
  assert.deepEqual(s.attachToTarget, []);
});

test('replacing a table the target keeps others referencing: their foreign keys into it are marked inbound, its own out are not', async () => {
  const s = await selectTocEntries(entries, [{ schema: 'sales', name: 'customers' }], async (e) => e.type !== 'TABLE' || e.name === 'orders', { replacing: true });
  assert.deepEqual(s.inbound.map(describeEntry), ['FK CONSTRAINT sales.orders orders_customer_id_fkey']);
  const o = await selectTocEntries(entries, [{ schema: 'sales', name: 'orders' }], async (e) => e.type !== 'TABLE' || e.name === 'customers', { replacing: true });
  assert.ok(names(o.ids).includes('FK CONSTRAINT sales.orders orders_customer_id_fkey'));
  assert.deepEqual(o.inbound, []);
});
