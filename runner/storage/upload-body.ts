/**
 * The body of a streamed upload as the cloud backends see it: counted (for PutResult and progress), and failed
 * with the caller's own error when the source stream errors or the abort signal fires. Funnelling both kinds of
 * failure through the body means the SDK's own failure path runs (S3: abort the multipart upload; GCS: never
 * finalize the resumable session) and completes before `put` rejects.
 */
import { Transform, type Readable } from 'node:stream';
import type { PutOptions } from './types';

export interface UploadBody {
  stream: Readable;
  bytes(): number;
  /** The error that ended the body, if the source (or an abort) ended it; rethrown by `put` as is. */
  failure(): unknown;
  /** Stops listening to the signal; after a failed upload, also stops the source (its producer sees EPIPE). */
  dispose(failed: boolean): void;
}

export function uploadBody(source: Readable, opts: PutOptions): UploadBody {
  let bytes = 0;
  let failure: unknown;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      opts.onProgress?.(bytes);
      cb(null, chunk);
    },
  });
  // Only the source's own errors (and aborts) count as the body's failure: when the upload side fails first and
  // tears the counter down, that upload error is the one to report, not a consequential "premature close".
  source.on('error', (e: unknown) => {
    failure ??= e;
    counter.destroy(e instanceof Error ? e : new Error(String(e)));
  });
  source.pipe(counter);
  const onAbort = (): void => {
    const reason = opts.signal?.reason ?? Object.assign(new Error('upload aborted'), { name: 'AbortError' });
    failure ??= reason;
    source.destroy(reason instanceof Error ? reason : new Error(String(reason)));
    counter.destroy(reason instanceof Error ? reason : new Error(String(reason)));
  };
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    stream: counter,
    bytes: () => bytes,
    failure: () => failure,
    dispose: (failed) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (failed && !source.destroyed) source.destroy();
    },
  };
}
