/**
 * The storage backends' contract. Keys are relative to the storage root (the URL's bucket + prefix or
 * folder), use `/` as separator, and follow runner/contract/layout.ts.
 *
 * Atomicity: `put` makes the object appear whole or not at all. On local storage it writes under a temporary
 * name and renames; on GCS and S3 an upload is invisible until it completes, and a failed multipart upload is
 * aborted. Combined with "manifest last", nothing partial is ever published.
 */
import type { Readable } from 'node:stream';
import type { ObjectLockMode } from '../contract/object-lock';

/**
 * A per-object lock set at upload: the object can be neither deleted nor replaced before `retainUntil` (S3 Object
 * Lock retain-until, GCS object retention). `governance` can be lifted by an identity allowed to bypass it (S3
 * s3:BypassGovernanceRetention, GCS storage.objects.overrideUnlockedRetention: GCS calls it Unlocked);
 * `compliance` by nobody (GCS: Locked).
 */
export interface ObjectRetention {
  mode: ObjectLockMode;
  retainUntil: Date;
}

export interface StoredObject {
  key: string;
  size: number;
  modified: Date;
}

export interface PutOptions {
  contentType?: string;
  /** Aborting stops the upload and removes what was written (where the identity may). */
  signal?: AbortSignal;
  /** Called with the bytes written so far (progress display). */
  onProgress?: (bytes: number) => void;
  /** Lock the object until then (only on a storage whose `objectLock` is true; others refuse it, exit 2). */
  retention?: ObjectRetention;
}

export interface PutBytesOptions {
  contentType?: string;
  retention?: ObjectRetention;
}

/** Bytes `start` (inclusive) to `end` (exclusive) of an object. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface PutResult {
  bytes: number;
}

/** An object opened for positional reads into buffers the caller owns (and may reuse). */
export interface ObjectReader {
  /** The object's size when it was opened. */
  readonly size: number;
  /** Reads up to `length` bytes at `position` into `into`, from its start; how many were read (0 at the end). */
  read(into: Buffer, length: number, position: number): Promise<number>;
  close(): Promise<void>;
}

export interface Storage {
  /** A display form of the location, without credentials: `file:///var/backups`, `s3://bucket/prefix`. */
  readonly url: string;
  /** True when `put` and `putBytes` honour `retention` (S3, GCS); a folder cannot lock a file. */
  readonly objectLock?: boolean;
  /** Streams `body` into `key`. Rejects (and publishes nothing) if `body` errors or the signal aborts. */
  put(key: string, body: Readable, opts?: PutOptions): Promise<PutResult>;
  /** Writes a small object whole (manifests, reports). Atomic like `put`. */
  putBytes(key: string, data: Buffer | string, opts?: PutBytesOptions): Promise<void>;
  /**
   * A stream of the object's bytes, or of `range` of them (a streamed restore fetches its frames so). Rejects with
   * code `object_not_found` when missing. A range must lie inside the object: a read that ends short is an error.
   */
  get(key: string, range?: ByteRange): Promise<Readable>;
  getBytes(key: string): Promise<Buffer>;
  /**
   * Optional, where reads are local (a folder): the object opened for positional reads into the caller's buffers.
   * Every chunk of a `get` stream is a new buffer, outside V8's heap and freed only once a GC finds it dead;
   * restores and verify read through two buffers of their own instead (transient-chunks.ts says why). Rejects
   * with code `object_not_found` when missing.
   */
  open?(key: string): Promise<ObjectReader>;
  /** Every object whose key starts with `prefix`, across all pages, in no particular order. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /**
   * Removes an object; missing objects are not an error. Backup identities in the cloud may lack this right. An
   * object still under a lock rejects with code `object_locked` (OBJECT_LOCKED).
   */
  delete(key: string): Promise<void>;
}

/** Code used by every backend for a missing object, so callers need not know which backend they talk to. */
export const OBJECT_NOT_FOUND = 'object_not_found';

/** Code used by every backend for a delete refused because the object's retention has not run out. */
export const OBJECT_LOCKED = 'object_locked';

/** How a backend is opened (runner/storage/open.ts dispatches on the URL's scheme). */
export interface StorageOptions {
  /** S3-compatible endpoint (MinIO, R2, an emulator). Implies path-style addressing. */
  s3Endpoint?: string;
  s3Region?: string;
  /** Overrides for tests (emulator hosts etc.). */
  env?: NodeJS.ProcessEnv;
}

export type StorageFactory = (url: URL, opts: StorageOptions) => Storage;
