import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LifeboatError } from '../../runner/errors';
import { LocalStorage } from '../../runner/storage/local';
import { ChunkBuffers, TRANSIENT_CHUNK_BYTES, transientChunks } from '../../runner/storage/transient-chunks';
import { OBJECT_NOT_FOUND, type Storage } from '../../runner/storage/types';

/**
 * Descriptors of this process open on `file`. Only these: the test runner, tsx and the event loop open and close
 * descriptors of their own at any moment, so a count of all of them differs by one now and then.
 */
function fdsOn(file: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      // closed between the listing and the read
    }
  }
  return n;
}

test('from a folder: the bytes, in chunks of two reused buffers (shared across ranges), each valid until the next is asked for', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-chunks-'));
  try {
    const s = new LocalStorage(dir);
    // Random: no two chunks alike, so a chunk overwritten too early shows.
    const data = randomBytes(3 * TRANSIENT_CHUNK_BYTES + 1234);
    await s.putBytes('a/obj', data);
    // /proc shows the resolved path: the temp folder may sit behind a link.
    const objectFile = path.join(realpathSync(dir), 'a', 'obj');
    const openFds = (): number => fdsOn(objectFile);
    assert.equal(openFds(), 0);
    let seenOpen = 0;
    const stores = new Set<ArrayBufferLike>();
    const got: Buffer[] = [];
    const buffers = new ChunkBuffers();
    for (const range of [undefined, { start: 1000, end: 1000 + TRANSIENT_CHUNK_BYTES + 10 }]) {
      const parts: Buffer[] = [];
      for await (const c of transientChunks(s, 'a/obj', range, buffers)) {
        stores.add(c.buffer);
        seenOpen = Math.max(seenOpen, openFds());
        const copy = Buffer.from(c);
        // The next read runs meanwhile, into the other buffer: this chunk must not change.
        await new Promise((r) => setTimeout(r, 2));
        assert.ok(c.equals(copy), 'a chunk changed before the next was asked for');
        parts.push(copy);
      }
      got.push(Buffer.concat(parts));
    }
    assert.ok(got[0]!.equals(data), 'the whole object');
    assert.ok(got[1]!.equals(data.subarray(1000, 1000 + TRANSIENT_CHUNK_BYTES + 10)), 'the range');
    assert.equal(stores.size, 2, 'two buffers in all');
    assert.equal(seenOpen, 1, 'the object was open while it was read (so the count below can tell a leak)');
    assert.equal(openFds(), 0, 'every file is closed');

    // A consumer that stops early: the file is closed too.
    for await (const _ of transientChunks(s, 'a/obj')) break;
    assert.equal(openFds(), 0);

    await assert.rejects(async () => {
      for await (const _ of transientChunks(s, 'a/obj', { start: 0, end: data.length + 1 }));
    }, (e: unknown) => e instanceof LifeboatError && e.code === 'range_invalid');
    await assert.rejects(async () => {
      for await (const _ of transientChunks(s, 'a/missing'));
    }, (e: unknown) => e instanceof LifeboatError && e.code === OBJECT_NOT_FOUND);
    assert.equal(openFds(), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("without Storage.open (a bucket): the chunks of get's stream, for the range asked", async () => {
  const { Readable } = await import('node:stream');
  const asked: unknown[] = [];
  const bucket = { url: 'mem://b', get: async (_k: string, range?: unknown) => (asked.push(range), Readable.from([Buffer.from('ab'), Buffer.from('c')])) } as unknown as Storage;
  const out: string[] = [];
  for await (const c of transientChunks(bucket, 'k', { start: 3, end: 6 })) out.push(c.toString());
  assert.deepEqual(out, ['ab', 'c']);
  assert.deepEqual(asked, [{ start: 3, end: 6 }]);
});
