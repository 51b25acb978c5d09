/**
 * Downloads that survive a dropped connection. A multi-gigabyte restore reads one object for many minutes; the
 * SDKs retry failed requests but not a body stream that breaks halfway. This reopens the object at the byte
 * where it broke (a ranged read pinned to the same object version), with exponential backoff, a few times.
 * Neither SDK offers this for streams, hence the helper.
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ResumableReadOptions {
  /** Opens the object from `offset` (0 = the whole object). */
  open(offset: number): Promise<Readable>;
  /** Reopen attempts after a break without progress in between (default 5). */
  maxRetries?: number;
  /** First backoff in ms, doubled per consecutive failure (default 500, capped at 16 s). */
  baseDelayMs?: number;
  isRetryable?: (e: unknown) => boolean;
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
  async function* bytes(): AsyncGenerator<Buffer> {
    let offset = 0;
    let failures = 0;
    let current: Readable | undefined = first;
    for (;;) {
      try {
        current ??= await opts.open(offset);
        for await (const chunk of current) {
          const b = chunk as Buffer;
          offset += b.length;
          failures = 0;
          yield b;
        }
        return;
      } catch (e) {
        current?.destroy();
        current = undefined;
        if (!retryable(e) || failures >= maxRetries) throw e;
        await sleep(Math.min(base * 2 ** failures, 16_000));
        failures++;
      }
    }
  }
  return Readable.from(bytes(), { objectMode: false });
}
