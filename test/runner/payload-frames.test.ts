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
