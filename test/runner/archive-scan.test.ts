import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ArchiveFormatError, BlockScanner, parseArchiveHead } from '../../runner/pg/archive-scan';
import { archive, rows, type Fixture } from './archive-fixture';

function sample(minor: 14 | 15 | 16): Fixture {
  return archive(minor, [
    { id: 10, desc: 'SCHEMA' },
    { id: 11, desc: 'TABLE' },
    { id: 20, desc: 'TABLE DATA', chunks: rows(500) },
    { id: 21, desc: 'TABLE DATA', chunks: [] },
    { id: 22, desc: 'SEQUENCE SET' },
    { id: 23, desc: 'BLOBS', largeObjects: [[16400, [Buffer.from('hello')]], [2 ** 31 + 5, [Buffer.alloc(20000, 7), Buffer.alloc(3, 1)]]] },
    { id: 24, desc: 'TABLE DATA', chunks: rows(50, 10, 3) },
  ]);
}

/** The block starts `scan` reports when the data section arrives in pieces of `size` bytes. */
function scanInPieces(f: Fixture, size: number): { starts: number[]; scanner: BlockScanner } {
  const head = parseArchiveHead(f.bytes)!;
  const scanner = new BlockScanner(head);
  const starts: number[] = [];
  for (let at = head.dataStart; at < f.bytes.length; at += size) starts.push(...scanner.scan(f.bytes.subarray(at, Math.min(f.bytes.length, at + size))));
  return { starts, scanner };
}

describe('archive-scan: the framing of pg_dump custom-format archives', () => {
  for (const minor of [14, 15, 16] as const) {
    test(`archive version 1.${minor}: the TOC's end and its data entries; null for every shorter prefix`, () => {
      const f = sample(minor);
      const head = parseArchiveHead(f.bytes);
      assert.ok(head);
      assert.equal(head.version, `1.${minor}`);
      assert.equal(head.dataStart, f.dataStart);
      assert.deepEqual(head.dataEntries, [20, 21, 23, 24]);
      for (let k = 0; k < f.dataStart; k++) assert.equal(parseArchiveHead(f.bytes.subarray(0, k)), null, `prefix of ${k} bytes`);
    });

    test(`archive version 1.${minor}: every block start and id, whatever the pieces the stream arrives in`, () => {
      const f = sample(minor);
      for (const size of [1, 2, 5, 7, 64, 4096, f.bytes.length]) {
        const { starts, scanner } = scanInPieces(f, size);
        assert.deepEqual(starts, f.blocks.map((b) => b.offset), `pieces of ${size}`);
        assert.deepEqual(scanner.finish(), f.blocks, `pieces of ${size}`);
      }
    });
  }

  test('a schema-only archive: the data starts at its end, and there are no blocks', () => {
    const f = archive(15, [{ id: 1, desc: 'TABLE' }]);
    const head = parseArchiveHead(f.bytes)!;
    assert.equal(head.dataStart, f.bytes.length);
    assert.deepEqual(new BlockScanner(head).finish(), []);
  });

  test('what it does not know is an ArchiveFormatError, never a guess', () => {
    const f = sample(15);
    const other = Buffer.from(f.bytes);
    other[6] = 17; // archive version 1.17
    assert.throws(() => parseArchiveHead(other), ArchiveFormatError);
    assert.throws(() => parseArchiveHead(Buffer.from('-- PostgreSQL database dump\n')), /no PGDMP magic/);
    const tar = Buffer.from(f.bytes);
    tar[10] = 3; // the format byte: tar
    assert.throws(() => parseArchiveHead(tar), /not custom/);
  });

  test('a stream that does not match its TOC fails the scan: a strange block type, a cut block, a stray or missing block', () => {
    const f = sample(14);
    const head = parseArchiveHead(f.bytes)!;
    const bad = Buffer.from(f.bytes);
    bad[f.blocks[1]!.offset] = 2;
    assert.throws(() => new BlockScanner(head).scan(bad.subarray(head.dataStart)), /unknown block type 2/);

    const cut = new BlockScanner(head);
    cut.scan(f.bytes.subarray(head.dataStart, f.blocks[2]!.offset + 20));
    assert.throws(() => cut.finish(), /ends inside a data block/);

    const missing = new BlockScanner(head);
    missing.scan(f.bytes.subarray(head.dataStart, f.blocks[3]!.offset));
    assert.throws(() => missing.finish(), /1 TOC entries with data have no data block/);

    const stray = new BlockScanner({ ...head, dataEntries: [20, 21, 24] });
    stray.scan(f.bytes.subarray(head.dataStart));
    assert.throws(() => stray.finish(), /entry 23, which the TOC gives no data/);
  });
});
