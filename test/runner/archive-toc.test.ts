import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ArchiveFormatError, BlockScanner, readArchiveToc } from '../../runner/pg/archive-scan';
import { blockEnd, blockStart, chunkHeader, spliceToc } from '../../runner/pg/archive-toc';
import { pieceQueries, type PiecedTable } from '../../runner/pg/table-pieces';
import { createTocSplice, piecedEntries } from '../../runner/payload/toc-splice';
import { archive, rows } from './archive-fixture';

function sample(minor: 14 | 15 | 16) {
  return archive(minor, [
    { id: 10, desc: 'SCHEMA' },
    { id: 11, desc: 'TABLE', tag: 'big' },
    { id: 12, desc: 'TABLE', tag: 'small' },
    { id: 20, desc: 'TABLE DATA', tag: 'small', chunks: rows(30) },
    { id: 21, desc: 'SEQUENCE SET', section: 3 },
    { id: 30, desc: 'INDEX', section: 4 },
    { id: 31, desc: 'CONSTRAINT', section: 4 },
  ]);
}

const BIG: PiecedTable = { schema: 'public', name: 'big', bytes: 1 << 20, copyStmt: 'COPY "public"."big" ("id") FROM stdin;\n', pieces: ['q1', 'q2', 'q3'] };

describe('archive-toc: entries added to a TOC and their blocks after pg_dump`s', () => {
  for (const minor of [14, 15, 16] as const) {
    test(`archive version 1.${minor}: the pieces' entries at the end of the data section, their blocks after the last one, all readable`, () => {
      const f = sample(minor);
      const toc = readArchiveToc(f.bytes)!;
      const { entries, ids, moreDeps } = piecedEntries(toc, [BIG]);
      assert.deepEqual(ids, { intSize: 4, first: [32], pieces: [[33, 34, 35]] }, 'ids after the highest');
      assert.deepEqual(entries.map((e) => e.deps), [[11], [32, 11], [32, 11], [32, 11]], 'the empty entry first, on the table; the pieces after it');
      assert.deepEqual([...moreDeps], [], 'no post-data entry of this fixture depends on the table');
      const head = spliceToc(f.bytes.subarray(0, toc.dataStart), toc, entries, new Map([[30, [33, 34, 35]]]));
      // The blocks follow pg_dump's: the empty entry's (the end-of-copy line only), then the pieces'.
      const block = (id: number, body: Buffer[]): Buffer => Buffer.concat([blockStart(id, 4), ...body.flatMap((b) => [chunkHeader(b.length, 4), b]), blockEnd(4)]);
      const tail = Buffer.concat([block(32, [Buffer.from('\\.\n\n\n')]), block(33, rows(5)), block(34, rows(5, 10, 5)), block(35, [])]);
      const whole = Buffer.concat([head, f.bytes.subarray(toc.dataStart), tail]);
      const after = readArchiveToc(whole)!;
      assert.deepEqual(
        after.entries.map((e) => `${e.id} ${e.desc}`),
        ['10 SCHEMA', '11 TABLE', '12 TABLE', '20 TABLE DATA', '21 SEQUENCE SET', '32 TABLE DATA', '33 TABLE DATA', '34 TABLE DATA', '35 TABLE DATA', '30 INDEX', '31 CONSTRAINT'],
      );
      for (const e of after.entries.filter((x) => x.id >= 32)) {
        assert.equal(e.tag, 'big');
        assert.equal(e.namespace, 'public', "the TABLE entry's namespace");
        assert.equal(e.oid, '1011', "the table's oid");
        assert.equal(e.section, 3);
        assert.equal(e.hasData, true);
      }
      const before30 = toc.entries.find((e) => e.id === 30)!.deps;
      assert.deepEqual(after.entries.find((e) => e.id === 30)!.deps, [...before30, 33, 34, 35], 'the index waits for every piece');
      assert.deepEqual(after.entries.find((e) => e.id === 31)!.deps, toc.entries.find((e) => e.id === 31)!.deps, 'others unchanged');
      assert.deepEqual(after.dataEntries, [20, 32, 33, 34, 35]);
      const scanner = new BlockScanner(after);
      scanner.scan(whole.subarray(after.dataStart));
      assert.deepEqual(scanner.finish().map((b) => b.id), [20, 32, 33, 34, 35], 'the blocks are in the TOC order');
    });
  }

  test('an entry with data after the data section refuses the splice (blocks would leave the TOC order)', () => {
    const f = archive(14, [
      { id: 11, desc: 'TABLE', tag: 'big' },
      { id: 30, desc: 'INDEX', section: 4 },
      { id: 40, desc: 'TABLE DATA', chunks: rows(2), section: 4 },
    ]);
    const toc = readArchiveToc(f.bytes)!;
    assert.throws(() => spliceToc(f.bytes.subarray(0, toc.dataStart), toc, piecedEntries(toc, [BIG]).entries), ArchiveFormatError);
  });

  test("a pieced table the archive has no TABLE entry for is an error, not an archive that restores it empty", () => {
    const f = sample(14);
    const toc = readArchiveToc(f.bytes)!;
    assert.throws(() => piecedEntries(toc, [{ ...BIG, name: 'other' }]), /no TABLE entry for public\.other/);
  });
});

describe('table-pieces: the COPY of each piece', () => {
  test('one piece is the table`s own COPY, as pg_dump`s', () => {
    assert.deepEqual(pieceQueries({ schema: 'a b', name: 'T"x' }, ['id', 'Note'], 100, 1), ['COPY "a b"."T""x" ("id", "Note") TO STDOUT']);
  });

  test('pieces cut the pages into contiguous ranges, open at both ends', () => {
    const q = pieceQueries({ schema: 'public', name: 'big' }, ['id'], 10, 3);
    assert.deepEqual(q, [
      `COPY (SELECT "id" FROM ONLY "public"."big" WHERE ctid < '(4,0)'::tid) TO STDOUT`,
      `COPY (SELECT "id" FROM ONLY "public"."big" WHERE ctid >= '(4,0)'::tid AND ctid < '(8,0)'::tid) TO STDOUT`,
      `COPY (SELECT "id" FROM ONLY "public"."big" WHERE ctid >= '(8,0)'::tid) TO STDOUT`,
    ]);
  });
});

describe('toc-splice: what it cannot splice fails the backup, naming why', () => {
  const run = async (input: Buffer): Promise<{ code?: string; message: string; hint?: string }> => {
    const splice = createTocSplice([BIG], () => undefined);
    splice.resume();
    return new Promise((resolve) => {
      splice.once('error', (e: Error & { code?: string; hint?: string }) => resolve(e));
      splice.end(input);
    });
  };

  test('not a pg_dump archive', async () => {
    const e = await run(Buffer.from('hello, not an archive'));
    assert.equal(e.code, 'archive_splice_failed');
    assert.match(e.message, /cannot add the pieced tables to pg_dump's archive: not a pg_dump archive/);
    assert.match(String(e.hint), /--jobs 1/);
  });

  test("an archive that ends inside its TOC", async () => {
    const f = sample(14);
    const e = await run(f.bytes.subarray(0, f.dataStart - 3));
    assert.equal(e.code, 'archive_splice_failed');
    assert.match(e.message, /ended before its TOC did/);
  });

  test('an archive without the pieced table', async () => {
    const f = archive(14, [{ id: 11, desc: 'TABLE', tag: 'other' }]);
    const e = await run(f.bytes);
    assert.equal(e.code, 'archive_splice_failed');
    assert.match(e.message, /no TABLE entry for public\.big/);
  });
});
