/**
 * The body of a streamed upload as the cloud backends see it: counted (for PutResult and progress), and failed
 * with the caller's own error when the source stream errors or the abort signal fires. Funnelling both kinds of
 * failure through the body means the SDK's own failure path runs (S3: abort the multipart upload; GCS: never
 * finalize the resumable session) and completes before `put` rejects.
 */
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PutOptions } from './types';

export interface UploadBody {
  stream: Readable;
  bytes(): number;
  /** The error that ended the body, if the source (or an abort) ended it; rethrown by `put` as is. */
  failure(): unknown;
  /** Stops listening to the signal. */
  dispose(): void;
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
  pipeline(source, counter).catch((e: unknown) => {
    failure ??= e;
  });
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
    dispose: () => opts.signal?.removeEventListener('abort', onAbort),
  };
}
