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
