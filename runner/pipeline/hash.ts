/**
 * A pass-through stream that computes the sha256 and size of exactly the bytes that go through it: placed
 * right before storage on write, right after storage on read, it hashes the stored bytes.
 *
 * `gate`: a promise the stream waits for before it ends. The backup passes "pg_dump and zstd exited with
 * success", so a failed dump makes the upload fail (and publish nothing) instead of storing a truncated file.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export class HashingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;
  private digestHex?: string;

  constructor(private readonly gate?: () => Promise<void>) {
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.digestHex = this.hash.digest('hex');
    if (!this.gate) return cb();
    this.gate().then(
      () => cb(),
      (e: unknown) => cb(e as Error),
    );
  }

  /** The hex digest; only after the stream has ended. */
  get sha256(): string {
    if (!this.digestHex) throw new Error('sha256 read before the stream ended');
    return this.digestHex;
  }
}
