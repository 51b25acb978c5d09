import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameWeights } from '../../runner/payload/frames';
import { entryWeights, splitStreams, type Section } from '../../runner/restore/stream-split';
import type { TocEntry } from '../../runner/pg/toc';

function entry(id: number, type: string, label: string, deps: number[] = []): TocEntry {
  return { id, type, label, schema: null, name: null, deps };
}

// An archive's TOC in archive order: pre-data, data, post-data, grants last (as pg_dump sorts it).
const TOC: TocEntry[] = [
  entry(3, 'ENCODING', '- ENCODING '),
  entry(1, 'SCHEMA', '- sales postgres'),
  entry(2, 'FUNCTION', 'sales norm(text) postgres', [1]),
  entry(10, 'TABLE', 'sales big postgres', [1]),
  entry(11, 'TABLE', 'sales mid postgres', [1]),
  entry(12, 'TABLE', 'sales small postgres', [1]),
  entry(13, 'TABLE', 'public parted postgres'),
  entry(14, 'TABLE', 'public parted_1 postgres'),
  entry(15, 'TABLE ATTACH', 'public parted_1 postgres', [13, 14]),
  entry(16, 'ACL', 'sales TABLE big postgres', [10]),
  entry(20, 'TABLE DATA', 'sales big postgres', [10]),
  entry(21, 'TABLE DATA', 'sales mid postgres', [11]),
  entry(22, 'TABLE DATA', 'sales small postgres', [12]),
  entry(23, 'TABLE DATA', 'public parted_1 postgres', [14]),
  entry(24, 'SEQUENCE SET', 'sales big_id_seq postgres'),
  entry(25, 'BLOBS', '- BLOBS '),
  entry(30, 'CONSTRAINT', 'sales big big_pkey postgres', [10]),
  entry(31, 'INDEX', 'sales mid_norm postgres', [11, 2]),
  entry(32, 'INDEX', 'sales small_idx postgres', [12]),
  entry(33, 'INDEX', 'public parted_idx postgres', [13]),
  entry(34, 'INDEX', 'public parted_1_idx postgres', [14, 33]),
  entry(35, 'INDEX ATTACH', 'public parted_1_idx postgres', [33, 34]),
  entry(36, 'FK CONSTRAINT', 'sales mid mid_big_fk postgres', [10, 11, 30]),
  entry(37, 'INDEX', 'sales big_mid postgres', [10, 11]),
  entry(38, 'TRIGGER', 'sales big big_touch postgres', [10, 2]),
  entry(39, 'COMMENT', 'sales INDEX small_idx postgres', [32]),
  entry(40, 'COMMENT', 'sales CONSTRAINT mid_big_fk postgres', [36]),
];

// Each entry's section as `pg_restore --list --section=X` reports it; ENCODING is in none.
const SECTIONS = new Map<number, Section>(
  TOC.filter((e) => e.id !== 3).map((e) => [e.id, e.id < 20 ? 'pre-data' : e.id < 30 ? 'data' : 'post-data']),
);
const split = (toc: TocEntry[], n: number, tables = TABLES) => splitStreams(toc, SECTIONS, entryWeights(toc, tables), n);

const TABLES = [
  { schema: 'sales', name: 'big', rows: 10, bytes: 1000 },
  { schema: 'sales', name: 'mid', rows: 1000, bytes: 600 },
  { schema: 'sales', name: 'small', rows: 5, bytes: 300 },
  { schema: 'public', name: 'parted_1', rows: 7, bytes: 100 },
];

test('weights: each table data entry weighs its table bytes; large objects weigh the average', () => {
  const w = entryWeights(TOC, TABLES);
  assert.deepEqual([...w.entries()].sort((a, b) => a[0] - b[0]), [[20, 1000], [21, 600], [22, 300], [23, 100], [25, 500]]);
});

test('weights: rows stand in for bytes in manifests written before bytes were recorded', () => {
  const w = entryWeights(TOC, TABLES.map(({ schema, name, rows }) => ({ schema, name, rows })));
  assert.equal(w.get(20), 10);
  assert.equal(w.get(21), 1000);
});

test('weights: a name with spaces goes to the longest schema and name its label starts with', () => {
  const toc = [entry(5, 'TABLE DATA', 'a b c postgres'), entry(6, 'TABLE DATA', 'a b postgres')];
  const w = entryWeights(toc, [
    { schema: 'a', name: 'b', rows: 1, bytes: 10 },
    { schema: 'a', name: 'b c', rows: 1, bytes: 99 },
  ]);
  assert.equal(w.get(5), 99);
  assert.equal(w.get(6), 10);
});

test('split: data dealt heaviest first to the lightest stream; the post-data work and the grants are left to the rest', () => {
  const { pre, streams, rest } = split(TOC, 2);
  // big 1000 -> 0; mid 600 -> 1; large objects 500 -> 1 (1100); small 300 -> 0 (1300); parted_1 100 -> 1 (1200).
  assert.deepEqual(streams, [[20, 22], [21, 23, 25]]);
  // The pre-data section but its grants; ENCODING (in no section) nowhere.
  assert.deepEqual(pre, [1, 2, 10, 11, 12, 13, 14, 15]);
  // Everything else follows the data, in the archive's order (post-data-jobs.ts takes its jobs out of it).
  assert.deepEqual(rest, [16, 24, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40]);
});

test('split: every entry with a section is in exactly one list, and every list keeps the archive order', () => {
  for (const n of [1, 2, 3, 8]) {
    const { pre, streams, rest } = split(TOC, n);
    const all = [...pre, ...streams.flat(), ...rest].sort((a, b) => a - b);
    assert.deepEqual(all, [...SECTIONS.keys()].sort((a, b) => a - b), `n=${n}`);
    const order = new Map(TOC.map((e, i) => [e.id, i]));
    for (const list of [pre, ...streams, rest]) {
      assert.deepEqual(list, [...list].sort((a, b) => order.get(a)! - order.get(b)!), `n=${n}`);
    }
  }
});

test('split: no more streams than data entries that weigh anything, and one when there is no data at all', () => {
  assert.equal(split(TOC, 8).streams.length, 5);
  assert.equal(split(TOC, 1).streams.length, 1);
  const empties = TABLES.map((t) => ({ ...t, bytes: 0, rows: 0 }));
  assert.equal(split(TOC.filter((e) => e.type !== 'BLOBS'), 4, empties).streams.length, 1, 'empty tables are not worth a download each');
  const schemaOnly = TOC.filter((e) => !['TABLE DATA', 'BLOBS'].includes(e.type));
  const { streams, rest } = split(schemaOnly, 4);
  assert.deepEqual(streams, [[]]);
  assert.ok(rest.includes(24));
});

test('split by frames: the entries of a frame go to one stream together, frames dealt by their weight', () => {
  // Frames: [20] big, [21, 22] mid and small, [23, 25] parted_1 and the large objects (archive bytes).
  const units = [[20], [21, 22], [23, 25]];
  const weights = frameWeights([
    { rawBytes: 10, bytes: 1, sha256: '', blocks: [] },
    { rawBytes: 900, bytes: 1, sha256: '', blocks: [20] },
    { rawBytes: 800, bytes: 1, sha256: '', blocks: [21, 22] },
    { rawBytes: 300, bytes: 1, sha256: '', blocks: [23, 25] },
  ]);
  assert.deepEqual([...weights.entries()], [[20, 900], [21, 400], [22, 400], [23, 150], [25, 150]]);
  const s = splitStreams(TOC, SECTIONS, weights, 2, units);
  // big 900 -> 0; mid+small 800 -> 1; parted_1+large objects 300 -> 1 (1100).
  assert.deepEqual(s.streams, [[20], [21, 22, 23, 25]]);
  assert.deepEqual(s.unitStreams, [0, 1, 1]);
  assert.equal(splitStreams(TOC, SECTIONS, weights, 8, units).streams.length, 3, 'no more streams than frames');
});

test('weights: the entries of a table dumped in pieces (backup --jobs) share its bytes', () => {
  const toc = [entry(5, 'TABLE DATA', 'sales big postgres', [10]), entry(6, 'TABLE DATA', 'sales big postgres', [10]), entry(7, 'TABLE DATA', 'sales big postgres', [10, 5, 6]), entry(8, 'TABLE DATA', 'sales small postgres', [12])];
  const w = entryWeights(toc, TABLES);
  assert.deepEqual([w.get(5), w.get(6), w.get(7), w.get(8)], [1000 / 3, 1000 / 3, 1000 / 3, 300]);
});
