/**
 * The framed compressor (runner/payload/framed-compress.ts) with the real zstd CLI: the frames decompress to the
 * archive byte for byte, together and one by one; the index says where each block is; what cannot be scanned
 * is still compressed whole; a failed or stopped zstd ends `done` even when nobody reads the output.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { childSucceeded, type ChildResult, type Spawner } from '../../runner/pipeline/spawn';
import { createFramedCompressor, frameMinBytes, type FramedCompressor, type TailFrame } from '../../runner/payload/framed-compress';
import { zstdCompressArgs } from '../../runner/payload/zstd';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readArchiveToc } from '../../runner/pg/archive-scan';
import { blockEnd, blockStart, chunkHeader, spliceToc } from '../../runner/pg/archive-toc';
import { piecedEntries } from '../../runner/payload/toc-splice';
import { archive, rows } from './archive-fixture';

function zstdInstalled(): void {
  try {
    execFileSync('zstd', ['--version']);
  } catch {
    throw new Error('zstd is not installed: apt-get install -y zstd');
  }
}

async function compress(input: Buffer, frameMin: number, spawner: Spawner = spawn, pieces = 65536, tail?: () => Promise<TailFrame[]>): Promise<{ out: Buffer; c: FramedCompressor }> {
  const c = createFramedCompressor(spawner, 'zstd', zstdCompressArgs(), process.env, frameMin, tail);
  const chunks: Buffer[] = [];
  const collected = pipeline(c.output, new Writable({ write: (b: Buffer, _e, cb) => (chunks.push(b), cb()) }));
  const src = Readable.from((function* () {
    for (let at = 0; at < input.length; at += pieces) yield input.subarray(at, at + pieces);
  })());
  await pipeline(src, c.input);
  await collected;
  return { out: Buffer.concat(chunks), c };
}

const unzstd = (b: Buffer): Buffer => execFileSync('zstd', ['-d', '-q', '-c'], { input: b, maxBuffer: 1 << 30 });

const big = archive(15, [
  { id: 1, desc: 'SCHEMA' },
  { id: 2, desc: 'TABLE DATA', chunks: rows(40_000, 60) },
  { id: 3, desc: 'TABLE DATA', chunks: rows(30, 10) },
  { id: 4, desc: 'TABLE DATA', chunks: [randomBytes(300_000)] },
  { id: 5, desc: 'BLOBS', largeObjects: [[16400, [Buffer.from('x')]]] },
  { id: 6, desc: 'TABLE DATA', chunks: rows(35_000, 70, 9) },
]);

describe('framed-compress: zstd frames cut where data blocks start', () => {
  zstdInstalled();

  test('a frame per block with LIFEBOAT_FRAME_MIN_KIB=0: each frame decompresses alone to its part of the archive', async () => {
    assert.equal(frameMinBytes({ LIFEBOAT_FRAME_MIN_KIB: '0' }), 0);
    const { out, c } = await compress(big.bytes, 0, spawn, 7777);
    assert.ok(childSucceeded(await c.done));
    assert.ok(unzstd(out).equals(big.bytes), 'the frames together are the archive');
    const frames = c.index();
    assert.ok(frames);
    assert.deepEqual(frames.map((f) => f.blocks), [[], [2], [3], [4], [5], [6]]);
    assert.equal(frames[0]!.rawBytes, big.dataStart);
    let at = 0;
    let raw = 0;
    for (const f of frames) {
      const part = out.subarray(at, at + f.bytes);
      assert.equal(createHash('sha256').update(part).digest('hex'), f.sha256);
      assert.ok(unzstd(part).equals(big.bytes.subarray(raw, raw + f.rawBytes)), 'the frame alone');
      at += f.bytes;
      raw += f.rawBytes;
    }
    assert.equal(at, out.length);
    assert.equal(raw, big.bytes.length);
  });

  test('by default a frame is cut before a block only once it holds 1 MiB: small blocks share one', async () => {
    const { out, c } = await compress(big.bytes, frameMinBytes({}));
    assert.ok(unzstd(out).equals(big.bytes));
    // Block 2 is 1.4 MB: 3 starts a frame; 3, 4 and 5 hold 0.3 MB, so 6 joins them.
    assert.deepEqual(c.index()!.map((f) => f.blocks), [[], [2], [3, 4, 5, 6]]);
  });

  test('what is not a custom-format archive is compressed whole, without an index', async () => {
    const text = Buffer.from('-- PostgreSQL database dump\n'.repeat(10_000));
    const { out, c } = await compress(text, 0);
    assert.ok(childSucceeded(await c.done));
    assert.ok(unzstd(out).equals(text));
    assert.equal(c.index(), null);
    const cut = big.bytes.subarray(0, big.blocks[2]!.offset + 9); // ends inside a block: scanned, but not whole
    const partial = await compress(cut, 0);
    assert.ok(unzstd(partial.out).equals(cut));
    assert.equal(partial.c.index(), null);
    assert.throws(() => frameMinBytes({ LIFEBOAT_FRAME_MIN_KIB: '-1' }), /LIFEBOAT_FRAME_MIN_KIB expected a whole number of KiB from 0 to 1048576, got "-1"/);
  });

  test('a zstd that fails on the third frame fails `done`, and no index is given', async () => {
    let n = 0;
    const failing: Spawner = (file, args, opts) => (++n === 3 ? spawn('sh', ['-c', 'cat >/dev/null; echo "zstd: error 70 : write error" >&2; exit 1'], opts) : spawn(file, args, opts));
    const { c } = await compress(big.bytes, 0, failing);
    const r = await c.done;
    assert.equal(childSucceeded(r), false);
    assert.equal(r.code, 1);
    assert.equal(c.index(), null);
  });

  /** Writes `bytes`, never reads the output, then destroys it and kills (a failed upload): how `done` ends. */
  async function stopUnread(bytes: Buffer): Promise<ChildResult | 'hung'> {
    const c = createFramedCompressor(spawn, 'zstd', zstdCompressArgs(), process.env, 0);
    c.input.write(bytes);
    await new Promise((r) => setTimeout(r, 300)); // zstd fills the pipes; the output is never read
    c.output.destroy();
    c.kill();
    return Promise.race([c.done, new Promise<'hung'>((res) => setTimeout(() => res('hung'), 10_000))]);
  }

  test('stopped while nobody reads the output (a failed upload): done ends, nothing is left running', async () => {
    const r = await stopUnread(archive(14, [{ id: 1, desc: 'TABLE DATA', chunks: [randomBytes(8 << 20)] }]).bytes);
    assert.notEqual(r, 'hung', 'done ended');
    assert.equal(childSucceeded(r as ChildResult), false);
  });

  test('stopped while a frame is being closed and nobody reads the output: every zstd is stopped, done ends', async () => {
    // Incompressible blocks fill the pipes: the first frame's close waits on the output, which is never read.
    const r = await stopUnread(archive(16, [1, 2, 3].map((id) => ({ id, desc: 'TABLE DATA', chunks: [randomBytes(4 << 20)] }))).bytes);
    assert.notEqual(r, 'hung', 'done ended');
    assert.equal(childSucceeded(r as ChildResult), false);
  });

  test('stopped, then the input ends (pg_dump killed by the same abort): a failure, no index, never the last frame\'s success', async () => {
    const c = createFramedCompressor(spawn, 'zstd', zstdCompressArgs(), process.env, 0);
    const drain = pipeline(c.output, new Writable({ write: (_b, _e, cb) => cb() }));
    c.input.write(big.bytes.subarray(0, big.blocks[3]!.offset + 100));
    await new Promise((r) => setTimeout(r, 200));
    c.kill();
    c.input.end();
    const r = await c.done;
    assert.equal(childSucceeded(r), false);
    assert.equal(c.index(), null);
    await drain.catch(() => undefined);
  });
});

describe('framed-compress: frames compressed elsewhere, appended after the archive`s own (backup --jobs)', () => {
  test('the tail frames follow in order, hashed and indexed with their blocks; rawBytes counts them', async () => {
    const base = archive(14, [{ id: 1, desc: 'TABLE', tag: 'big' }, { id: 2, desc: 'TABLE DATA', chunks: rows(100) }]);
    const toc = readArchiveToc(base.bytes)!;
    const { entries } = piecedEntries(toc, [{ schema: 'public', name: 'big', bytes: 1, copyStmt: 'COPY big FROM stdin;\n', pieces: ['a', 'b'] }]);
    const spliced = Buffer.concat([spliceToc(base.bytes.subarray(0, toc.dataStart), toc, entries), base.bytes.subarray(toc.dataStart)]);
    const block = (id: number, body: Buffer[]): Buffer => Buffer.concat([blockStart(id, 4), ...body.flatMap((b) => [chunkHeader(b.length, 4), b]), blockEnd(4)]);
    const raw1 = block(3, rows(2000, 50));
    const raw2 = Buffer.concat([block(4, rows(1000, 30, 7)), block(5, [Buffer.from('\\.\n\n\n')])]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-tail-'));
    try {
      const files = [raw1, raw2].map((r, i) => {
        const f = path.join(dir, `t${i}.zst`);
        writeFileSync(f, execFileSync('zstd', ['-q', '-c'], { input: r }));
        return f;
      });
      const tail = async (): Promise<TailFrame[]> => [
        { path: files[0]!, rawBytes: raw1.length, blocks: [{ id: 3, offset: 0 }] },
        { path: files[1]!, rawBytes: raw2.length, blocks: [{ id: 4, offset: 0 }, { id: 5, offset: raw2.length - block(5, [Buffer.from('\\.\n\n\n')]).length }] },
      ];
      const { out, c } = await compress(spliced, 0, spawn, 4096, tail);
      assert.ok(childSucceeded(await c.done));
      const whole = Buffer.concat([spliced, raw1, raw2]);
      assert.ok(unzstd(out).equals(whole), 'the payload is the spliced archive and its tail');
      assert.equal(c.rawBytes(), whole.length);
      const frames = c.index();
      assert.ok(frames, 'the scan accepts the tail blocks against the TOC');
      assert.deepEqual(frames.map((f) => f.blocks), [[], [2], [3], [4, 5]]);
      let at = 0;
      for (const f of frames) {
        assert.equal(f.sha256, createHash('sha256').update(out.subarray(at, at + f.bytes)).digest('hex'));
        at += f.bytes;
      }
      // A tail that fails fails the compression.
      const failed = await compress(spliced, 0, spawn, 4096, async () => {
        throw new Error('a COPY failed');
      });
      const r: ChildResult = await failed.c.done;
      assert.equal(childSucceeded(r), false);
      assert.match(r.stderr, /a COPY failed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
