import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CompleteBackup } from '../../runner/catalog/catalog';
import { frameOffsets, framesMatchToc, usableFrames } from '../../runner/payload/frames';
import type { AgeRandomAccess } from '../../runner/crypto/age-range';
import type { TocEntry } from '../../runner/pg/toc';
import type { Storage } from '../../runner/storage/types';

const frame = (bytes: number, blocks: number[]) => ({ rawBytes: bytes * 3, bytes, sha256: 'a'.repeat(64), blocks });
const FRAMES = [frame(100, []), frame(500, [7]), frame(250, [8, 9])];

function backupWith(payload: Record<string, unknown>): CompleteBackup {
  return { manifest: { payload: { storedBytes: 850, compression: 'zstd', encryption: null, frames: FRAMES, ...payload } } } as unknown as CompleteBackup;
}

test('usable frames: recorded, a head without blocks, adding up to the stored bytes (an age payload: to its plaintext)', () => {
  assert.equal(usableFrames(backupWith({})), FRAMES);
  assert.equal(usableFrames(backupWith({ frames: undefined })), null, 'an older manifest');
  const age = { encryption: { scheme: 'age', recipients: ['sha256:x'] }, storedBytes: 1234 };
  assert.equal(usableFrames(backupWith(age), 850), FRAMES, 'encrypted: the frames add up to the plaintext');
  assert.equal(usableFrames(backupWith(age), 851), null, 'encrypted: they do not');
  assert.equal(usableFrames(backupWith(age)), null, 'encrypted, the plaintext size unknown');
  assert.equal(usableFrames(backupWith({ storedBytes: 851 })), null, 'frames that do not add up');
  assert.equal(usableFrames(backupWith({ frames: [frame(850, [7])] })), null, 'a first frame with data is no head');
});

test('frame offsets add up from 0', () => {
  assert.deepEqual(frameOffsets(FRAMES), [0, 100, 600]);
});

test("the frames must hold exactly the TOC's data entries, each once", () => {
  const e = (id: number, type: string): TocEntry => ({ id, type, label: '', schema: null, name: null, deps: [] });
  const toc = [e(1, 'TABLE'), e(7, 'TABLE DATA'), e(8, 'TABLE DATA'), e(9, 'BLOBS'), e(10, 'SEQUENCE SET')];
  assert.equal(framesMatchToc(FRAMES, toc), true);
  assert.equal(framesMatchToc(FRAMES, [...toc, e(11, 'TABLE DATA')]), false, 'a data entry in no frame');
  assert.equal(framesMatchToc(FRAMES, toc.filter((x) => x.id !== 9)), false, 'a block of no data entry');
  assert.equal(framesMatchToc([...FRAMES, frame(5, [7])], toc), false, 'a block twice');
});

test('the frame index against a payload read whole: every frame, a wrong sha256, a payload longer or shorter', async () => {
  const { createHash } = await import('node:crypto');
  const { Readable, Writable } = await import('node:stream');
  const { pipeline } = await import('node:stream/promises');
  const { FrameIndexCheck } = await import('../../runner/payload/frames');
  const parts = [Buffer.alloc(100, 1), Buffer.alloc(500, 2), Buffer.alloc(250, 3)];
  const frames = parts.map((p, i) => ({ rawBytes: 1, bytes: p.length, sha256: createHash('sha256').update(p).digest('hex'), blocks: i ? [i] : [] }));
  const check = async (payload: Buffer, index = frames): Promise<string | null> => {
    const c = new FrameIndexCheck(index);
    // Pieces that straddle frame boundaries.
    const pieces = Array.from({ length: Math.ceil(payload.length / 77) }, (_, i) => payload.subarray(i * 77, i * 77 + 77));
    await pipeline(Readable.from(pieces), c, new Writable({ write: (_b, _e, cb) => cb() }));
    return c.mismatch();
  };
  const whole = Buffer.concat(parts);
  assert.equal(await check(whole), null);
  assert.match((await check(whole, frames.map((f, i) => (i === 1 ? { ...f, sha256: 'b'.repeat(64) } : f))))!, /frame 1 of 3 does not hash/);
  assert.match((await check(Buffer.concat([whole, Buffer.from('x')])))!, /goes on after the last of its 3 frames/);
  assert.match((await check(whole.subarray(0, 700)))!, /ends inside frame 2 of 3/);
});

/** Frames of random bytes, longer than one read (256 KiB) and shorter, and a storage double to read them from. */
async function framedPayload() {
  const { createHash, randomBytes } = await import('node:crypto');
  const { Readable } = await import('node:stream');
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  // Random: no two chunks alike, so a chunk overwritten too early shows.
  const parts = [100, 700 << 10, 5, 300 << 10].map((n) => randomBytes(n));
  const payload = Buffer.concat(parts);
  const frames = parts.map((p, i) => ({ rawBytes: p.length, bytes: p.length, sha256: sha(p), blocks: i ? [i] : [] }));
  const fetch = { frames, offsets: frameOffsets(frames), access: null as null | AgeRandomAccess, head: parts[0]!, perStream: [] };
  const files = { opened: 0, closed: 0 };
  const memReader = (bytes: Buffer, size = bytes.length) => ({
    size,
    read: async (into: Buffer, length: number, position: number) => bytes.copy(into, 0, position, Math.min(position + length, bytes.length)),
    close: async () => void files.closed++,
  });
  type Reader = ReturnType<typeof memReader>;
  /** Reads by range as a stream of 100 KiB chunks (as a bucket), and with `reader`, positionally (as a folder). */
  const storageOf = (bytes: Buffer, reader?: Reader): Storage & { ranged: number } => {
    const s = {
      url: 'mem://x',
      ranged: 0,
      get: async (_key: string, range?: { start: number; end: number }) => {
        const r = range ?? { start: 0, end: bytes.length };
        const pieces: Buffer[] = [];
        for (let at = r.start; at < Math.min(r.end, bytes.length); at += 100 << 10) pieces.push(Buffer.from(bytes.subarray(at, Math.min(at + (100 << 10), r.end))));
        s.ranged += pieces.reduce((n, p) => n + p.length, 0);
        return Readable.from(pieces);
      },
      ...(reader ? { open: async () => (files.opened++, reader) } : {}),
    };
    return s as unknown as Storage & { ranged: number };
  };
  const run = async (storage: Storage, ks: number[], signal = new AbortController().signal, f = fetch) => {
    const { pumpFrames } = await import('../../runner/payload/frames');
    const written: Buffer[] = [];
    const stores = new Set<ArrayBufferLike>();
    const verified = new Set<number>();
    const write = async (chunk: Buffer): Promise<void> => {
      const copy = Buffer.from(chunk);
      if (chunk !== f.head) stores.add(chunk.buffer);
      // A slow pipe: the next read runs meanwhile, into the other buffer.
      await new Promise((r) => setTimeout(r, 2));
      assert.ok(chunk.equals(copy), 'a chunk changed while it was being written');
      written.push(copy);
    };
    const error = await pumpFrames(storage, 'k', 'file:///x/dump.pgc.zst', f, ks, verified, write, signal).then(() => null, (e: unknown) => e as Error & { code?: string });
    return { written: Buffer.concat(written), stores, verified, error };
  };
  return { parts, payload, frames, fetch, files, memReader, storageOf, run };
}

test('pumpFrames from a folder (Storage.open): the head, then the given frames in order, through two buffers reused only once a write is done; each frame checked', async () => {
  const { parts, payload, frames, fetch, files, memReader, storageOf, run } = await framedPayload();
  const { pumpFrames } = await import('../../runner/payload/frames');
  const folder = (bytes: Buffer, size?: number) => storageOf(bytes, memReader(bytes, size));

  const ok = await run(folder(payload), [3, 1]);
  assert.equal(ok.error, null);
  assert.ok(ok.written.equals(Buffer.concat([parts[0]!, parts[3]!, parts[1]!])), 'the head, then frames 3 and 1, byte for byte');
  assert.deepEqual([...ok.verified].sort(), [1, 3]);
  assert.equal(ok.stores.size, 2, 'every chunk after the head is one of two buffers');
  assert.ok(files.opened > 0 && files.closed === files.opened, `every file opened is closed (${files.opened} opened, ${files.closed} closed)`);

  const flipped = Buffer.from(payload);
  flipped[frames[0]!.bytes + 1000]! ^= 1;
  const bad = await run(folder(flipped), [2, 1, 3]);
  assert.equal(bad.error?.code, 'checksum_mismatch');
  assert.match(bad.error!.message, /frame 1 of 4/);
  assert.deepEqual([...bad.verified], [2], 'frame 1 failed; frame 3 was not read');
  assert.equal(bad.written.length, parts[0]!.length + parts[2]!.length + parts[1]!.length, "the bad frame's bytes went on before its check");
  assert.ok(files.closed === files.opened, 'and after a failure too');

  const cut = await run(folder(payload.subarray(0, payload.length - 10)), [1, 3]);
  assert.equal(cut.error?.code, 'range_invalid', 'a payload cut short fails as a range past its end, as Storage.get would');
  assert.deepEqual([...cut.verified], [1]);

  const shrank = await run(folder(payload.subarray(0, payload.length - 10), payload.length), [3]);
  assert.equal(shrank.error?.code, 'checksum_mismatch', 'an object that shrank after it was opened');
  assert.match(shrank.error!.message, /read \d+ bytes, the manifest says \d+/);

  const stop = new AbortController();
  stop.abort(new Error('stopped'));
  const stopped = await run(folder(payload), [1, 3], stop.signal);
  assert.equal(stopped.error?.message, 'stopped');
  assert.equal(stopped.written.length, parts[0]!.length, 'only the head went on');

  // Stopped in the middle of a frame, with the next read running: it ends there, and nothing rejects unheard.
  const midway = new AbortController();
  const slowReads = { ...memReader(payload), read: async (into: Buffer, length: number, position: number) => {
    await new Promise((r) => setTimeout(r, 10));
    return payload.copy(into, 0, position, position + length);
  } };
  let writes = 0;
  const halted = await pumpFrames(storageOf(payload, slowReads), 'k', 'u', fetch, [1], new Set(), async () => {
    if (++writes === 2) midway.abort(new Error('stopped midway'));
  }, midway.signal).then(() => null, (e: Error) => e);
  assert.equal(halted?.message, 'stopped midway');
  assert.equal(writes, 2, 'the head and one chunk of frame 1, then nothing');
  await new Promise((r) => setTimeout(r, 30));

  // A read that fails in the middle of a frame fails the pump with its error (and not as an unhandled rejection).
  const failing = { ...memReader(payload), read: async (into: Buffer, length: number, position: number) => {
    if (position > fetch.offsets[1]!) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    return payload.copy(into, 0, position, position + length);
  } };
  const io = await run(storageOf(payload, failing), [1]);
  assert.equal(io.error?.message, 'EIO: i/o error, read');
  assert.deepEqual([...io.verified], []);
  assert.equal(files.closed, files.opened, 'every file opened is closed, stopped or failed midway too');
});

test('pumpFrames from a bucket (no Storage.open), or of an age payload: each frame by range, one chunk at a time, checked', async () => {
  const { parts, payload, fetch, memReader, storageOf, run } = await framedPayload();
  const bucket = storageOf(payload);
  const ok = await run(bucket, [1, 2]);
  assert.equal(ok.error, null);
  assert.ok(ok.written.equals(Buffer.concat([parts[0]!, parts[1]!, parts[2]!])));
  assert.deepEqual([...ok.verified], [1, 2]);
  assert.equal(bucket.ranged, parts[1]!.length + parts[2]!.length, 'each frame read once, by range');

  const flipped = Buffer.from(payload);
  flipped[payload.length - 3]! ^= 1;
  const bad = await run(storageOf(flipped), [3]);
  assert.equal(bad.error?.code, 'checksum_mismatch');
  assert.match(bad.error!.message, /frame 3 of 4/);

  // An age payload's frames are decrypted from a range of the stored bytes, even where the folder reads positionally.
  const { PassThrough } = await import('node:stream');
  const access = { storedRange: (start: number, end: number) => ({ start, end }), rangeDecryptor: () => new PassThrough() } as unknown as AgeRandomAccess;
  const folder = storageOf(payload, { ...memReader(payload), read: async () => assert.fail('an age frame read positionally') });
  const age = await run(folder, [2, 1], undefined, { ...fetch, access });
  assert.equal(age.error, null);
  assert.ok(age.written.equals(Buffer.concat([parts[0]!, parts[2]!, parts[1]!])));
  assert.equal(folder.ranged, parts[1]!.length + parts[2]!.length);
});
