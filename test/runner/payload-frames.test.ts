import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CompleteBackup } from '../../runner/catalog/catalog';
import { frameOffsets, framesMatchToc, usableFrames } from '../../runner/commands/payload-frames';
import type { TocEntry } from '../../runner/pg/toc';

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
  const { FrameIndexCheck } = await import('../../runner/commands/payload-frames');
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

test('pumpFrames: the head, then the given frames in order, through two buffers reused only once a write is done; each frame checked', async () => {
  const { createHash } = await import('node:crypto');
  const { pumpFrames } = await import('../../runner/commands/payload-frames');
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  // Frames longer than one read (256 KiB) and shorter; distinct bytes, so a chunk overwritten too early shows.
  const parts = [100, 700 << 10, 5, 300 << 10].map((n, i) => Buffer.from(Array.from({ length: n }, (_, j) => (j * 7 + i * 13) & 0xff)));
  const payload = Buffer.concat(parts);
  const frames = parts.map((p, i) => ({ rawBytes: p.length, bytes: p.length, sha256: sha(p), blocks: i ? [i] : [] }));
  const fetch = { frames, offsets: frameOffsets(frames), access: null, head: parts[0]!, perStream: [] };
  const memReader = (bytes: Buffer, size = bytes.length) => ({
    size,
    read: async (into: Buffer, length: number, position: number) => bytes.copy(into, 0, position, Math.min(position + length, bytes.length)),
    close: async () => undefined,
  });
  const run = async (reader: ReturnType<typeof memReader>, ks: number[], signal = new AbortController().signal) => {
    const written: Buffer[] = [];
    const stores = new Set<ArrayBufferLike>();
    const verified = new Set<number>();
    const write = async (chunk: Buffer): Promise<void> => {
      const copy = Buffer.from(chunk);
      if (chunk !== fetch.head) stores.add(chunk.buffer);
      // A slow pipe: the next read runs meanwhile, into the other buffer.
      await new Promise((r) => setTimeout(r, 2));
      assert.ok(chunk.equals(copy), 'a chunk changed while it was being written');
      written.push(copy);
    };
    const error = await pumpFrames(reader, 'file:///x/dump.pgc.zst', fetch, ks, verified, write, signal).then(() => null, (e: unknown) => e as Error & { code?: string });
    return { written: Buffer.concat(written), stores, verified, error };
  };

  const ok = await run(memReader(payload), [3, 1]);
  assert.equal(ok.error, null);
  assert.ok(ok.written.equals(Buffer.concat([parts[0]!, parts[3]!, parts[1]!])), 'the head, then frames 3 and 1, byte for byte');
  assert.deepEqual([...ok.verified].sort(), [1, 3]);
  assert.equal(ok.stores.size, 2, 'every chunk after the head is one of two buffers');

  const flipped = Buffer.from(payload);
  flipped[frames[0]!.bytes + 1000]! ^= 1;
  const bad = await run(memReader(flipped), [2, 1, 3]);
  assert.equal(bad.error?.code, 'checksum_mismatch');
  assert.match(bad.error!.message, /frame 1 of 4/);
  assert.deepEqual([...bad.verified], [2], 'frame 1 failed; frame 3 was not read');
  assert.equal(bad.written.length, parts[0]!.length + parts[2]!.length + parts[1]!.length, "the bad frame's bytes went on before its check");

  const cut = await run(memReader(payload.subarray(0, payload.length - 10)), [1, 3]);
  assert.equal(cut.error?.code, 'range_invalid', 'a payload cut short fails as a range past its end, as Storage.get would');
  assert.deepEqual([...cut.verified], [1]);

  const shrank = await run(memReader(payload.subarray(0, payload.length - 10), payload.length), [3]);
  assert.equal(shrank.error?.code, 'checksum_mismatch', 'an object that shrank after it was opened');
  assert.match(shrank.error!.message, /read \d+ bytes, the manifest says \d+/);

  const stop = new AbortController();
  stop.abort(new Error('stopped'));
  const stopped = await run(memReader(payload), [1, 3], stop.signal);
  assert.equal(stopped.error?.message, 'stopped');
  assert.equal(stopped.written.length, parts[0]!.length, 'only the head went on');

  // Stopped in the middle of a frame, with the next read running: it ends there, and nothing rejects unheard.
  const midway = new AbortController();
  const slowReads = { ...memReader(payload), read: async (into: Buffer, length: number, position: number) => {
    await new Promise((r) => setTimeout(r, 10));
    return payload.copy(into, 0, position, position + length);
  } };
  let writes = 0;
  const halted = await pumpFrames(slowReads, 'u', fetch, [1], new Set(), async () => {
    if (++writes === 2) midway.abort(new Error('stopped midway'));
  }, midway.signal).then(() => null, (e: Error) => e);
  assert.equal(halted?.message, 'stopped midway');
  assert.equal(writes, 2, 'the head and one chunk of frame 1, then nothing');
  await new Promise((r) => setTimeout(r, 30));

  // A read that fails in the middle of a frame fails the pump with its error.
  const failing = { ...memReader(payload), read: async (into: Buffer, length: number, position: number) => {
    if (position > fetch.offsets[1]!) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    return payload.copy(into, 0, position, position + length);
  } };
  const io = await run(failing, [1]);
  assert.equal(io.error?.message, 'EIO: i/o error, read');
  assert.deepEqual([...io.verified], []);

  await assert.rejects(pumpFrames(memReader(payload), 'u', { ...fetch, access: {} as never }, [1], new Set(), async () => undefined, stop.signal), /age payload/);
});
