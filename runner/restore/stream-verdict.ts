/**
 * The verdict on a streamed restore's data streams (stream.ts): whether one succeeded, why the first failed one
 * failed (the checksum first: a corrupt payload explains any later error), and the check of the bytes each was to
 * read against the manifest, whole or frame by frame.
 */
import type { CompleteBackup } from '../catalog/catalog';
import { isLifeboatError, runtimeError, type LifeboatError } from '../errors';
import type { ConnInfo } from '../pg/connection';
import { decryptFailure, verifyStoredBytes } from '../payload/fetch';
import { verifyFrames, type FrameFetch } from '../payload/frames';
import type { HashingStream } from '../pipeline/hash';
import { childSucceeded, describeChildFailure, type ChildResult } from '../pipeline/spawn';
import type { Storage } from '../storage/types';
import { pgRestoreFailure, type RestorePlan } from './pg-restore';

/** What the verdict needs of the restore. */
export interface VerdictInputs {
  backup: CompleteBackup;
  storage: Storage;
  objectUrl: string;
  /** Each stream's frames, when the payload is read by frames; null: each stream reads it whole. */
  fetch: FrameFetch | null;
}

export interface StreamOutcome {
  /** Why reading, hashing or decrypting the payload failed; null when it ran to the end or was stopped. */
  feedError: unknown;
  /** Stopped from outside (another stream failed first, or the run was interrupted). */
  cancelled: boolean;
  zstd: ChildResult;
  restore: ChildResult;
  /** Read whole: hashes and counts the bytes the stream read. Null by frames: each frame is checked on its own. */
  hasher: HashingStream | null;
  /** Which stream. */
  stream: number;
  /** Read by frames: those whose checksum passed. */
  verified: Set<number>;
}

/**
 * A stream succeeded when its pg_restore did and all it was to read was read (and checked, by frames). zstd's own
 * status does not count once pg_restore succeeded: a pg_restore whose last entry comes before the end of the
 * archive exits without reading the rest, and its zstd dies of the closed pipe.
 */
export function streamSucceeded(o: StreamOutcome): boolean {
  return o.feedError === null && !o.cancelled && childSucceeded(o.restore);
}

/**
 * Why the first failed stream failed. The checksum first, as on the temp-file path: a corrupt payload explains
 * every later error, and pg_restore's own message on one can be anything (a flipped byte made it fail with "out
 * of memory"). When the stream stopped early that costs a second read of the whole object, on failure only.
 * zstd killed by a signal or by the closed pipe is a consequence, not a cause.
 */
export async function streamFailure(o: StreamOutcome, inputs: VerdictInputs, target: ConnInfo, plan: RestorePlan): Promise<LifeboatError | Error> {
  const { backup, objectUrl } = inputs;
  const zstdBroke = !childSucceeded(o.zstd) && o.zstd.signal === null && !/broken pipe|write error/i.test(o.zstd.stderr);
  const decryptError = isDecryptError(o.feedError);
  // A frame that failed its checksum as it ended.
  if (isLifeboatError(o.feedError) && o.feedError.code === 'checksum_mismatch') return o.feedError;
  if (inputs.fetch && o.feedError !== null) {
    await explainBrokenFrame(inputs, o.feedError);
    return decryptError ? decryptFailure(o.feedError, objectUrl) : readFailed(o.feedError, objectUrl);
  }
  // A read that failed is its own explanation (reading it all again would most likely fail the same way).
  if (o.feedError !== null && !decryptError) return readFailed(o.feedError, objectUrl);
  await checkStoredBytes(inputs, o);
  if (decryptError) return decryptFailure(o.feedError, objectUrl);
  if (zstdBroke) return runtimeError('decompress_failed', `${objectUrl}: ${describeChildFailure(o.zstd)}`);
  return pgRestoreFailure(o.restore, backup, target, plan);
}

function readFailed(e: unknown, objectUrl: string): LifeboatError {
  return runtimeError('read_failed', `reading ${objectUrl} failed: ${(e as Error).message}`);
}

function isDecryptError(e: unknown): e is LifeboatError {
  return isLifeboatError(e) && e.code.startsWith('decrypt_');
}

/**
 * A frame that could not be read or decrypted may be a payload cut short or altered (a range past its end; an
 * age frame is checked only after decryption): throws checksum_mismatch when that is so, as the other paths
 * report it. A failed chunk: the stored bytes' sha256 (a read of the whole object, on failure only). A failed
 * read: the object's size from a listing (not a second download while the storage is in trouble). What cannot
 * be told is left to the caller's own report.
 */
async function explainBrokenFrame(inputs: VerdictInputs, e: unknown): Promise<void> {
  const { backup, storage, objectUrl } = inputs;
  try {
    if (isDecryptError(e)) return await verifyStoredBytes(backup, storage, null, objectUrl);
    for await (const o of storage.list(backup.payloadKey)) {
      if (o.key === backup.payloadKey && o.size !== backup.manifest.payload.storedBytes) {
        throw runtimeError('checksum_mismatch', `${objectUrl} has ${o.size} bytes, the manifest says ${backup.manifest.payload.storedBytes}`, 'The stored payload is corrupt: restore another backup (lifeboat list)');
      }
    }
  } catch (err) {
    if (isLifeboatError(err) && err.code === 'checksum_mismatch') throw err;
  }
}

/**
 * The bytes a stream was to read against the manifest: read whole, the payload's sha256 and size (rehashed when the
 * stream stopped early); read by frames, each of its frames (those not checked as they ended are read again). A
 * frame that cannot be read again: a changed payload is reported as such, a chunk that fails authentication as
 * that; a read that fails now while the payload's size is right leaves the caller's report (pg_restore's) alone,
 * unless the restore is about to succeed (`beforeSuccess`).
 */
export async function checkStoredBytes(inputs: VerdictInputs, o: StreamOutcome, beforeSuccess = false): Promise<void> {
  const { fetch, storage, backup, objectUrl } = inputs;
  if (!fetch) return verifyStoredBytes(backup, storage, o.hasher, objectUrl);
  try {
    await verifyFrames(storage, backup.payloadKey, objectUrl, fetch, fetch.perStream[o.stream]!, o.verified);
  } catch (e) {
    if (isLifeboatError(e) && e.code === 'checksum_mismatch') throw e;
    await explainBrokenFrame(inputs, e);
    if (isDecryptError(e)) throw decryptFailure(e, objectUrl);
    // Before a success every frame must have passed: an unread one fails the restore.
    if (beforeSuccess) throw readFailed(e, objectUrl);
  }
}
