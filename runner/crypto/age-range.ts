/**
 * Random access to an age payload's plaintext (the STREAM layer of age.ts): every 64 KiB chunk is sealed on its
 * own, with its counter and last-chunk flag in the nonce, so any plaintext range can be decrypted from the chunk
 * that holds its first byte. A streamed restore reads its frames of an encrypted payload so (payload/frames.ts).
 * Every chunk is still authenticated before a byte of it goes on.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { BlockBuffer, CHUNK, TAG, headerUnwrapper, openChunk, openHeader, tampered, truncated } from './age';

/** What openRandomAccess gives: the plaintext's size, where a range is stored, and its decryptor. */
export interface AgeRandomAccess {
  /** Plaintext bytes in the payload. */
  plainBytes: number;
  /** The stored bytes that hold plaintext [start, end). */
  storedRange(start: number, end: number): { start: number; end: number };
  /** Stored bytes of storedRange(start, end) in, plaintext [start, end) out, every chunk authenticated. */
  rangeDecryptor(start: number, end: number): Transform;
}

/**
 * Opens an age payload of `storedBytes` for random access, from its first stored bytes (`head`: at least its
 * header and nonce; null when they are longer). The same errors as the streaming decryptor for a wrong identity.
 */
export async function openRandomAccess(identityText: string, head: Buffer, storedBytes: number): Promise<AgeRandomAccess | null> {
  const opened = await openHeader(head, await headerUnwrapper(identityText));
  if (!opened) return null;
  const { key, payloadStart } = opened;
  const sealed = storedBytes - payloadStart;
  const chunks = Math.max(1, Math.ceil(sealed / (CHUNK + TAG)));
  const plainBytes = sealed - chunks * TAG;
  if (plainBytes < 0) throw truncated('the payload ends without its final chunk', storedBytes);
  return {
    plainBytes,
    storedRange(start, end) {
      const first = Math.floor(start / CHUNK);
      const last = Math.max(first, Math.floor((end - 1) / CHUNK));
      return { start: payloadStart + first * (CHUNK + TAG), end: Math.min(storedBytes, payloadStart + (last + 1) * (CHUNK + TAG)) };
    },
    rangeDecryptor(start, end) {
      return new RangeDecrypter(key, chunks, payloadStart, start, end);
    },
  };
}

/** Decrypts the sealed chunks holding plaintext [start, end) and passes on exactly those bytes. */
class RangeDecrypter extends Transform {
  private readonly buf = new BlockBuffer();
  private counter: number;
  private skip: number;
  private left: number;

  constructor(
    private readonly key: Buffer,
    private readonly chunks: number,
    private readonly payloadStart: number,
    start: number,
    end: number,
  ) {
    super();
    this.counter = Math.floor(start / CHUNK);
    this.skip = start - this.counter * CHUNK;
    this.left = end - start;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.buf.push(chunk);
    while (this.buf.length >= CHUNK + TAG && this.left > 0) {
      if (!this.openNext(CHUNK + TAG)) return cb(tampered(this.at(), this.counter === this.chunks - 1));
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    // Only the payload's final chunk may be shorter than a full one: anything else here is a read cut short.
    const final = this.counter === this.chunks - 1;
    if (this.left > 0 && final && this.buf.length >= TAG && !this.openNext(this.buf.length)) return cb(tampered(this.at(), true));
    if (this.left > 0) return cb(truncated(`${this.left} bytes of the range are missing`, this.at()));
    cb();
  }

  private at(): number {
    return this.payloadStart + this.counter * (CHUNK + TAG);
  }

  private openNext(n: number): boolean {
    const plain = openChunk(this.key, this.counter, this.counter === this.chunks - 1, this.buf.take(n));
    if (!plain) return false;
    this.counter++;
    const out = plain.subarray(this.skip, this.skip + this.left);
    this.skip = 0;
    this.left -= out.length;
    this.push(out);
    return true;
  }
}
