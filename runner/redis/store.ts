/**
 * Storing a Redis payload: raw bytes ─▶ zstd ─▶ [age] ─▶ sha256 ─▶ storage.put, the same stages as the
 * PostgreSQL backup (runner/commands/backup.ts), built from the shared pieces: the zstd CLI (findZstd), child
 * watching (runner/pipeline/spawn.ts) and the gated HashingStream (runner/pipeline/hash.ts), so the upload only
 * completes once the producer and zstd have both succeeded and a failure publishes nothing.
 */
import { pipeline as pipelineCb, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RunContext } from '../context';
import type { Encryptor } from '../crypto/age';
import { LifeboatError, runtimeError } from '../errors';
import { HashingStream } from '../pipeline/hash';
import { createProgress } from '../pipeline/progress';
import { childSucceeded, defaultSpawner, describeChildFailure, watchChild, type Spawner } from '../pipeline/spawn';
import { findZstd, zstdCompressArgs, zstdLevelFromEnv } from '../payload/zstd';
import type { ObjectRetention, Storage } from '../storage/types';

export interface StoredPayload {
  rawBytes: number;
  storedBytes: number;
  sha256: string;
}

export interface StoreOptions {
  storage: Storage;
  key: string;
  encryptor: Encryptor | null;
  /** Progress line label and expected raw size (for the ETA), on a terminal only. */
  label: string;
  expectedRawBytes?: number;
  /** The backup's object lock (runner/retention/object-lock.ts). */
  retention?: ObjectRetention;
}

export async function storeCompressed(
  raw: Readable,
  opts: StoreOptions,
  ctx: Pick<RunContext, 'env' | 'signal' | 'stderr'>,
  spawner: Spawner = defaultSpawner,
): Promise<StoredPayload> {
  const zstd = await findZstd();
  const comp = watchChild('zstd', spawner(zstd.path, zstdCompressArgs(zstdLevelFromEnv(ctx.env)), { env: ctx.env, stdio: ['pipe', 'pipe', 'pipe'] }));
  const abort = new AbortController();
  const onCtxAbort = (): void => abort.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onCtxAbort, { once: true });
  abort.signal.addEventListener('abort', () => {
    comp.kill();
    raw.destroy();
  }, { once: true });

  let rawBytes = 0;
  const progress = createProgress(ctx.stderr, opts.label, opts.expectedRawBytes);
  raw.on('data', (chunk: Buffer) => {
    rawBytes += chunk.length;
    progress.update(rawBytes);
  });
  comp.child.stdin!.on('error', () => undefined); // EPIPE when zstd dies: its exit status reports it.
  const fed = pipeline(raw, comp.child.stdin!).then(
    () => null,
    (e: unknown) => e,
  );
  // The verdict on the producer and the compressor; the upload's last bytes wait for it.
  const verdict = (async (): Promise<void> => {
    const [feedError, c] = await Promise.all([fed, comp.done]);
    if (ctx.signal.aborted) throw runtimeError('interrupted', 'interrupted: nothing was published');
    if (feedError) {
      throw feedError instanceof LifeboatError ? feedError : runtimeError('redis_read_failed', `reading the snapshot failed: ${(feedError as Error).message}`);
    }
    if (!childSucceeded(c)) throw runtimeError('compress_failed', describeChildFailure(c));
  })();
  let verdictFailed = false;
  verdict.catch(() => {
    verdictFailed = true;
    abort.abort(new Error('backup failed'));
  });

  const hasher = new HashingStream(() => verdict);
  const stages: NodeJS.ReadWriteStream[] = opts.encryptor ? [opts.encryptor.stream, hasher] : [hasher];
  pipelineCb([comp.child.stdout!, ...stages] as unknown as [Readable, ...NodeJS.ReadWriteStream[]], () => undefined);
  let storageFailure: unknown;
  try {
    await opts.storage.put(opts.key, hasher, { signal: abort.signal, contentType: 'application/octet-stream', ...(opts.retention ? { retention: opts.retention } : {}) });
  } catch (e) {
    // A storage failure that came first is the cause; the producer's failure then is only its consequence.
    if (!verdictFailed && !ctx.signal.aborted) storageFailure = e;
    abort.abort(e);
  } finally {
    progress.done();
    ctx.signal.removeEventListener('abort', onCtxAbort);
  }
  // Wait for zstd whatever happened, so nothing is left running.
  const outcome = await verdict.then(
    () => null,
    (e: unknown) => e,
  );
  if (storageFailure) throw storageFailure;
  if (outcome) throw outcome;
  return { rawBytes, storedBytes: hasher.bytes, sha256: hasher.sha256 };
}
