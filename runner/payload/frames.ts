/**
 * Reading a payload by its frames (runner/payload/framed-compress.ts): the head frame holds the archive's header
 * and TOC, each later frame whole data blocks. A streamed restore (restore/stream.ts) reads the head once and
 * gives each stream only its own frames, each checked against its sha256 in the manifest as it ends.
 *
 * - usableFrames(backup, plainBytes): the manifest's frames, when a restore can fetch them by range.
 * - framesMatchToc(frames, entries): the frames hold exactly the TOC's data blocks.
 * - frameWeights / frameOffsets: pure.
 * - readFrame(...): a frame; pumpFrames(...): the head then the given frames, chunk by chunk, each checked as it
 *   ends; verifyFrames(...): rehash frames by range. An age payload's frames are decrypted from the chunk holding
 *   their first byte.
 * - FrameIndexCheck: the index against a payload read whole (verify).
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CompleteBackup } from '../catalog/catalog';
import type { AgeRandomAccess } from '../crypto/age-range';
import { runtimeError } from '../errors';
import { DATA_BLOCK_TYPES, type TocEntry } from '../pg/toc';
import type { PayloadFrame } from './framed-compress';
import type { Storage } from '../storage/types';
import { ChunkBuffers, transientChunks } from '../storage/transient-chunks';

/** How to read frames: where each starts in the compressed bytes, and for an age payload how to decrypt a range. */
export interface FrameReader {
  frames: readonly PayloadFrame[];
  offsets: readonly number[];
  /** null when the payload is not encrypted (compressed bytes are the stored bytes). */
  access: AgeRandomAccess | null;
}

/** What a streamed restore needs to fetch by frames: the head read once, and each stream's frames (indexes). */
export interface FrameFetch extends FrameReader {
  head: Buffer;
  perStream: number[][];
}

/**
 * The manifest's frames, or null to read the payload whole: none recorded (older backups, or an archive that
 * could not be scanned), a first frame with data (no head), or frames that do not add up to the compressed
 * bytes (the stored bytes; for an age payload, its plaintext: `plainBytes`).
 */
export function usableFrames(backup: CompleteBackup, plainBytes?: number): readonly PayloadFrame[] | null {
  const { frames, encryption, storedBytes, compression } = backup.manifest.payload;
  if (!frames?.length || compression !== 'zstd' || frames[0]!.blocks.length) return null;
  const compressed = encryption ? plainBytes : storedBytes;
  if (frames.reduce((sum, f) => sum + f.bytes, 0) !== compressed) return null;
  return frames;
}

/** Where each frame starts in the stored bytes. */
export function frameOffsets(frames: readonly PayloadFrame[]): number[] {
  const out: number[] = [];
  let at = 0;
  for (const f of frames) {
    out.push(at);
    at += f.bytes;
  }
  return out;
}

/** Pure: true when the frames' blocks are exactly the TOC's data entries, each once. */
export function framesMatchToc(frames: readonly PayloadFrame[], entries: readonly TocEntry[]): boolean {
  const data = new Set(entries.filter((e) => DATA_BLOCK_TYPES.has(e.type)).map((e) => e.id));
  const seen = new Set<number>();
  for (const f of frames) {
    for (const id of f.blocks) {
      if (!data.has(id) || seen.has(id)) return false;
      seen.add(id);
    }
  }
  return seen.size === data.size;
}

/** Each data entry's weight: its frame's archive bytes, shared out among the frame's blocks. */
export function frameWeights(frames: readonly PayloadFrame[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const f of frames) for (const id of f.blocks) out.set(id, f.rawBytes / f.blocks.length);
  return out;
}

/** Bytes `start` to `end` of an object, read whole into memory (the start of an age payload). */
export async function readRange(storage: Storage, key: string, start: number, end: number, signal: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await storage.get(key, { start, end })) {
    signal.throwIfAborted();
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function frameMismatch(objectUrl: string, fetch: FrameReader, k: number, actual: string, bytes: number): Error {
  const f = fetch.frames[k]!;
  const where = `${fetch.access ? 'decrypted ' : ''}bytes ${fetch.offsets[k]}-${fetch.offsets[k]! + f.bytes} (frame ${k} of ${fetch.frames.length})`;
  return runtimeError(
    'checksum_mismatch',
    bytes !== f.bytes
      ? `${objectUrl} ${where}: read ${bytes} bytes, the manifest says ${f.bytes}`
      : `checksum mismatch for ${objectUrl} ${where}: manifest says sha256 ${f.sha256}, stored bytes hash to ${actual}`,
    'The stored payload is corrupt: restore another backup (lifeboat list)',
  );
}

/**
 * Frame `k` read by range (and decrypted); throws after its last chunk when its size or sha256 (of the compressed
 * bytes) differs from the manifest's. Each chunk is valid only until the next is asked for (transientChunks).
 */
async function* checkedFrame(storage: Storage, key: string, objectUrl: string, reader: FrameReader, k: number, buffers?: ChunkBuffers): AsyncGenerator<Buffer> {
  const frame = reader.frames[k]!;
  const start = reader.offsets[k]!;
  const end = start + frame.bytes;
  let source: AsyncIterable<unknown>;
  if (reader.access) {
    const dec = reader.access.rangeDecryptor(start, end);
    pipeline(await storage.get(key, reader.access.storedRange(start, end)), dec).catch((e: unknown) => dec.destroy(e as Error));
    source = dec;
  } else {
    source = transientChunks(storage, key, { start, end }, buffers);
  }
  const hash = createHash('sha256');
  let n = 0;
  for await (const c of source) {
    n += (c as Buffer).length;
    // A server that ignored the range (the whole object): not a byte past the frame goes on.
    if (n > frame.bytes) throw frameMismatch(objectUrl, reader, k, 'a longer read', n);
    hash.update(c as Buffer);
    yield c as Buffer;
  }
  const actual = hash.digest('hex');
  if (actual !== frame.sha256 || n !== frame.bytes) throw frameMismatch(objectUrl, reader, k, actual, n);
}

/** Frame `k` whole, checked (the head). */
export async function readFrame(storage: Storage, key: string, objectUrl: string, reader: FrameReader, k: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  // A copy of each: the chunks are transient.
  for await (const c of checkedFrame(storage, key, objectUrl, reader, k)) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/**
 * The head, then frames `ks`, handed to `write` in order, each frame checked as it ends (a mismatch throws after
 * its bytes went on); `verified` collects those that passed. A chunk is handed on only once `write` is done with
 * the one before (its promise resolved), and may be reused after: from a folder, a payload that is not encrypted
 * is read through two buffers (transientChunks); otherwise each frame comes by range as a stream (decrypted from
 * the chunk holding its first byte for an age payload).
 *
 * Why no stream stages in between (as a Readable of the frames and a hashing stream were): chunks waiting in their
 * queues were promoted and then freed only by full GCs. On Node 26, in a 4x bench restore from a folder (--jobs 2;
 * its two streams read 1.1 GB in their first ~22 s of ~35), node's RSS swung between 93 and 114 MiB while they
 * read; through two buffers it stays at 74-75 MiB, in the same wall time, with 2.2 s less CPU. (A forced full GC
 * every 200 ms had brought the peak to 89-90 MiB, for 8% more wall time.) From s3rver, without the stages: 127-133
 * MiB at 1x became 101.
 */
export async function pumpFrames(
  storage: Storage,
  key: string,
  objectUrl: string,
  fetch: FrameFetch,
  ks: readonly number[],
  verified: Set<number>,
  write: (chunk: Buffer) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  await write(fetch.head);
  const buffers = new ChunkBuffers();
  for (const k of ks) {
    signal.throwIfAborted();
    for await (const chunk of checkedFrame(storage, key, objectUrl, fetch, k, buffers)) {
      signal.throwIfAborted();
      await write(chunk);
    }
    verified.add(k);
  }
}

/** Rehashes by range the frames of `ks` not yet verified (a stream that stopped early); throws on a mismatch. */
export async function verifyFrames(storage: Storage, key: string, objectUrl: string, fetch: FrameFetch, ks: readonly number[], verified: Set<number>): Promise<void> {
  const buffers = new ChunkBuffers();
  for (const k of ks) {
    if (verified.has(k)) continue;
    for await (const _ of checkedFrame(storage, key, objectUrl, fetch, k, buffers));
    verified.add(k);
  }
}

/**
 * Passes the compressed bytes (a plain payload's stored bytes, an age payload's decrypted ones) through and
 * checks them against the manifest's frames: each frame's size and sha256, and nothing after the last. `verify`
 * reads the payload whole and so proves the index streamed restores and drills rely on, not only the payload.
 * Never errors the stream (the payload's own checksum is judged first): `mismatch()` tells afterwards.
 */
export class FrameIndexCheck extends Transform {
  private k = 0;
  private inFrame = 0;
  private hash = createHash('sha256');
  private problem: string | null = null;

  constructor(private readonly frames: readonly PayloadFrame[]) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.finish();
    cb();
  }

  /** The next bytes of the payload, without the stream (fetchArchive's pump). */
  update(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.problem) {
      const frame = this.frames[this.k];
      if (!frame) {
        this.problem = `the payload goes on after the last of its ${this.frames.length} frames`;
        break;
      }
      const take = Math.min(frame.bytes - this.inFrame, chunk.length - at);
      this.hash.update(chunk.subarray(at, at + take));
      this.inFrame += take;
      at += take;
      if (this.inFrame === frame.bytes) {
        if (this.hash.digest('hex') !== frame.sha256) this.problem = `frame ${this.k} of ${this.frames.length} does not hash to its sha256 in the manifest`;
        this.k++;
        this.inFrame = 0;
        this.hash = createHash('sha256');
      }
    }
  }

  /** The payload has ended. */
  finish(): void {
    if (!this.problem && this.k < this.frames.length) this.problem = `the payload ends inside frame ${this.k} of ${this.frames.length}`;
  }

  /** What is wrong with the index, once the stream has ended; null when every frame matched. */
  mismatch(): string | null {
    return this.problem;
  }
}
