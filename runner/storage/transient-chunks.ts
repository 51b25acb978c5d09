/**
 * Reading an object (or a range of it) chunk by chunk into as few new buffers as the storage allows.
 *
 * transientChunks(storage, key, range?, buffers?): each chunk is valid only until the consumer asks for the next one.
 * From a storage that reads into the caller's buffers (Storage.open: a folder), two buffers are reused, the next
 * read filling one while the consumer has the other; from the others, the chunks of `get`'s stream (new buffers).
 * A consumer that keeps chunks must copy them. One that reads many ranges in turn (a restore stream, its frames)
 * passes the same ChunkBuffers to each.
 *
 * Why: every buffer a read returns lives outside V8's heap and is freed only once a GC finds it dead; held for a
 * while (in a stream's queue), it is promoted, and then only a full GC frees it, which V8 starts on such memory
 * late. On Node 26, restores of the 4x bench dataset from a folder through stream stages and new buffers took node
 * to 113-114 MiB (streamed) and 139 MiB (temp file); chunk by chunk through two reused buffers, 74-75 MiB for
 * both, flat from start to end (runner/payload/frames.ts and fetch.ts have the details).
 */
import { checkRange } from './range';
import type { ByteRange, ObjectReader, Storage } from './types';

/** Bytes per read from a folder: as local.ts's streams read (its comment has the measurements). */
export const TRANSIENT_CHUNK_BYTES = 256 << 10;

/** The two buffers of transientChunks, made on first use; for one reading at a time. */
export class ChunkBuffers {
  private pair: readonly [Buffer, Buffer] | null = null;

  get(): readonly [Buffer, Buffer] {
    return (this.pair ??= [Buffer.allocUnsafeSlow(TRANSIENT_CHUNK_BYTES), Buffer.allocUnsafeSlow(TRANSIENT_CHUNK_BYTES)]);
  }
}

export async function* transientChunks(storage: Storage, key: string, range?: ByteRange, buffers = new ChunkBuffers()): AsyncGenerator<Buffer> {
  if (!storage.open) {
    for await (const chunk of await storage.get(key, range)) yield chunk as Buffer;
    return;
  }
  const reader = await storage.open(key);
  try {
    // As Storage.get with this range would: a range past the object's end (a payload cut short) fails.
    if (range) checkRange(range, reader.size, `${storage.url}/${key}`);
    yield* readInto(reader, range?.start ?? 0, range?.end ?? reader.size, buffers.get());
  } finally {
    // A read-only file: failing to close it must not hide how the reading went.
    await reader.close().catch(() => undefined);
  }
}

/** Bytes `start` to `end` through two buffers; stops early when the object ends sooner (it shrank since it was opened). */
async function* readInto(reader: ObjectReader, start: number, end: number, buffers: readonly [Buffer, Buffer]): AsyncGenerator<Buffer> {
  let at = start;
  let turn = 0;
  const readNext = (): Promise<number> | null => {
    if (at >= end) return null;
    const read = reader.read(buffers[turn & 1], Math.min(TRANSIENT_CHUNK_BYTES, end - at), at);
    // It may fail while the consumer has the previous chunk, before it is awaited: node would count that as an
    // unhandled rejection (and exit). Marked as handled here; awaiting it still throws.
    read.catch(() => undefined);
    return read;
  };
  let pending = readNext();
  try {
    while (pending) {
      const n = await pending;
      pending = null;
      if (n === 0) return;
      const chunk = buffers[turn & 1].subarray(0, n);
      at += n;
      turn++;
      pending = readNext();
      yield chunk;
    }
  } finally {
    // A read still running when the consumer stopped or failed: done before the caller closes the file.
    await pending?.catch(() => 0);
  }
}
