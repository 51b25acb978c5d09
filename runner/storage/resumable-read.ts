/**
 * Downloads that survive a dropped connection. A multi-gigabyte restore reads one object for many minutes; the
 * SDKs retry failed requests but not a body stream that breaks halfway. This reopens the object at the byte
 * where it broke (a ranged read pinned to the same object version), with exponential backoff, a few times.
 * Neither SDK offers this for streams, hence the helper.
 *
 * A break is an error from the stream, a stream that ends before the object's size, or a stream that delivers
 * nothing for `idleTimeoutMs` while we wait for it: @google-cloud/storage 7.x swallows a connection that breaks
 * mid-body (its read stream then neither errors nor ends, and a restore would hang for ever), and a silent
 * network stall looks the same. Time spent waiting on our own consumer (backpressure) does not count.
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { usageError } from '../errors';

export interface ResumableReadOptions {
  /** Opens the object from `offset` (0 = the whole object). */
  open(offset: number): Promise<Readable>;
  /** Reopen attempts after a break without progress in between (default 5). */
  maxRetries?: number;
  /** First backoff in ms, doubled per consecutive failure (default 500, capped at 16 s). */
  baseDelayMs?: number;
  isRetryable?: (e: unknown) => boolean;
  /** The object's size when known: a stream that ends short of it is a break, not the end. */
  size?: number;
  /** A stream that delivers no bytes for this long while being read is a break (default 60 s). */
  idleTimeoutMs?: number;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** LIFEBOAT_STORAGE_IDLE_TIMEOUT_S (1..3600) in ms, or the default. */
export function idleTimeoutMs(env: NodeJS.ProcessEnv): number {
  const raw = env.LIFEBOAT_STORAGE_IDLE_TIMEOUT_S;
  if (raw === undefined || raw === '') return DEFAULT_IDLE_TIMEOUT_MS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 3600) {
    throw usageError('storage_idle_timeout', `LIFEBOAT_STORAGE_IDLE_TIMEOUT_S expected a whole number of seconds from 1 to 3600, got "${raw}"`);
  }
  return n * 1000;
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED', 'ECONNABORTED', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH',
  'EHOSTUNREACH', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET',
]);

/** Network-level breaks, as Node and the SDKs report them. */
export function isTransientStreamError(e: unknown): boolean {
  const err = e as { code?: unknown; name?: unknown; message?: unknown } | undefined;
  if (!err) return false;
  if (typeof err.code === 'string' && TRANSIENT_CODES.has(err.code)) return true;
  return typeof err.message === 'string' && /\b(aborted|socket hang up|premature close|timed? ?out)\b/i.test(err.message);
}

/** `first` is the already opened stream at offset 0 (so a missing object fails before any byte is promised). */
export function resumableRead(first: Readable, opts: ResumableReadOptions): Readable {
  const maxRetries = opts.maxRetries ?? 5;
  const base = opts.baseDelayMs ?? 500;
  const retryable = opts.isRetryable ?? isTransientStreamError;
  const idle = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  let current: Readable | undefined = first;

  /** The chunks of one opened stream; throws on a break (error, stall, or an end short of the size). */
  async function* chunksOf(stream: Readable, offset: number): AsyncGenerator<Buffer> {
    const chunks = stream[Symbol.asyncIterator]();
    for (;;) {
      // Only the wait for the next chunk is timed, never the time our consumer takes.
      const timer = setTimeout(() => {
        stream.destroy(Object.assign(new Error(`no data for ${idle / 1000} s while reading`), { code: 'ETIMEDOUT' }));
      }, idle);
      let next: IteratorResult<unknown>;
      try {
        next = await chunks.next();
      } finally {
        clearTimeout(timer);
      }
      if (next.done) break;
      const b = next.value as Buffer;
      offset += b.length;
      yield b;
    }
    if (opts.size !== undefined && offset < opts.size) {
      throw Object.assign(new Error(`the read ended after ${offset} of ${opts.size} bytes`), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
    }
  }

  async function* bytes(): AsyncGenerator<Buffer> {
    let offset = 0;
    let failures = 0;
    for (;;) {
      try {
        current ??= await opts.open(offset);
        for await (const b of chunksOf(current, offset)) {
          offset += b.length;
          failures = 0;
          yield b;
        }
        return;
      } catch (e) {
        current?.destroy();
        current = undefined;
        // Every byte arrived and only the end went wrong: reopening at the size would ask for a range past it.
        if (opts.size !== undefined && offset >= opts.size) return;
        if (!retryable(e) || failures >= maxRetries) throw e;
        await sleep(Math.min(base * 2 ** failures, 16_000));
        failures++;
      }
    }
  }

  async function* guarded(): AsyncGenerator<Buffer> {
    try {
      yield* bytes();
    } finally {
      current?.destroy(); // the consumer stopped early, or we gave up: release the connection
    }
  }
  return Readable.from(guarded(), { objectMode: false });
}
