/**
 * Google Cloud Storage as storage: `gs://bucket/prefix`.
 *
 * Credentials: only Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud ADC, the metadata
 * server on Cloud Run / GCE, GKE Workload Identity). No keys in flags or URLs.
 *
 * Uploads are resumable sessions: the object only appears when the session is finalized after the last byte, so
 * a failed or aborted upload publishes nothing (an unfinalized session expires by itself after a week and is
 * never listed). The session sends CHUNK_SIZE chunks (LIFEBOAT_GCS_CHUNK_SIZE_MIB, default 8 MiB), each kept in
 * memory until acknowledged so a failed chunk is resent on its own; no size limit beyond GCS's 5 TiB. Measured
 * (bench/s3-memory.ts, 400 MiB streamed, peak RSS of the node process): local storage 98 MiB, 16 MiB chunks
 * 156 MiB, 8 MiB chunks 128 MiB. Chunks go one after another, so 8 MiB (GCS's advised minimum) still uploads far
 * faster than a compressed dump is produced. When
 * STORAGE_EMULATOR_HOST is set and no chunk size is given, the whole stream goes in one request instead,
 * because the Firebase Storage emulator (the only GCS emulator that installs from the npm registry) finalizes a
 * session on its first chunk. The chunked path is
 * tested against a double of the resumable protocol (test/storage/gcs-chunked.int.test.ts).
 *
 * Retries: the SDK's exponential backoff (x2 from 1 s, at most 32 s apart) on 408/429/5xx and network errors,
 * for every operation (RetryAlways: every write here is a whole object or a session chunk, so repeating one is
 * harmless): 5 retries per request. Uploads get their own budget, because the SDK (7.x) counts a resumable
 * upload's retries and its time limit from the start of the whole upload, never per chunk: with the request
 * settings, an upload running longer than 10 minutes would fail on its first transient error, and a
 * multi-hour one could survive only 5 in all. Downloads that break halfway are resumed with ranged reads pinned
 * to the object's generation (resumable-read.ts); the SDK's read stream hangs, silent, when its connection breaks
 * mid-body, so a read that receives nothing for LIFEBOAT_STORAGE_IDLE_TIMEOUT_S (60 s) counts as broken.
 */
import { IdempotencyStrategy, Storage as GcsClient, type Bucket, type StorageOptions as GcsClientOptions } from '@google-cloud/storage';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LifeboatError, isLifeboatError, runtimeError, usageError } from '../errors';
import { bucketLocation, objectName, relativeKey, type BucketLocation } from './keys';
import { idleTimeoutMs, resumableRead } from './resumable-read';
import { checkRange } from './range';
import { OBJECT_LOCKED, OBJECT_NOT_FOUND, type ByteRange, type ObjectRetention, type PutBytesOptions, type PutOptions, type PutResult, type Storage, type StorageFactory, type StorageOptions, type StoredObject } from './types';
import { uploadBody } from './upload-body';

const MiB = 1024 * 1024;
export const CHUNK_SIZE = 8 * MiB;

/**
 * Chunk size of resumable uploads in bytes: LIFEBOAT_GCS_CHUNK_SIZE_MIB (1..1024; whole MiB are multiples of the
 * 256 KiB GCS requires) or CHUNK_SIZE; undefined (one request) for an emulator when none is given.
 */
export function chunkSize(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.LIFEBOAT_GCS_CHUNK_SIZE_MIB;
  if (raw === undefined || raw === '') return env.STORAGE_EMULATOR_HOST ? undefined : CHUNK_SIZE;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw usageError('gcs_chunk_size', `LIFEBOAT_GCS_CHUNK_SIZE_MIB expected a whole number of MiB from 1 to 1024, got "${raw}"`);
  }
  return n * MiB;
}

/** The SDK retry settings: per request, or for a whole resumable upload (see the header comment). */
export function gcsRetryOptions(purpose: 'requests' | 'uploads'): NonNullable<GcsClientOptions['retryOptions']> {
  return {
    autoRetry: true,
    retryDelayMultiplier: 2,
    maxRetryDelay: 32,
    idempotencyStrategy: IdempotencyStrategy.RetryAlways,
    ...(purpose === 'requests'
      ? { maxRetries: 5, totalTimeout: 600 }
      : // A day of uploading (longer than any job platform lets a backup run), 20 transient failures in all.
        { maxRetries: 20, totalTimeout: 24 * 3600 }),
  };
}

/**
 * The object's retention as the JSON API takes it at upload. GCS calls governance `Unlocked` (an identity with
 * storage.objects.overrideUnlockedRetention may shorten it) and compliance `Locked`. The bucket must have object
 * retention enabled (`enableObjectRetention`, only at creation); otherwise GCS refuses the upload.
 */
export function gcsRetention(r: ObjectRetention): { mode: 'Unlocked' | 'Locked'; retainUntilTime: string } {
  return { mode: r.mode === 'compliance' ? 'Locked' : 'Unlocked', retainUntilTime: r.retainUntil.toISOString() };
}

export const createGcsStorage: StorageFactory = (url, opts) => new GcsStorage(url, opts);

export class GcsStorage implements Storage {
  readonly url: string;
  readonly objectLock = true;
  private readonly loc: BucketLocation;
  private readonly bucket: Bucket;
  private readonly uploadBucket: Bucket;
  private readonly chunkSize: number | undefined;
  private readonly idleTimeoutMs: number;

  constructor(url: URL, opts: StorageOptions = {}) {
    this.loc = bucketLocation(url);
    this.url = this.loc.url;
    const env = opts.env ?? process.env;
    const emulator = env.STORAGE_EMULATOR_HOST;
    this.chunkSize = chunkSize(env);
    this.idleTimeoutMs = idleTimeoutMs(env);
    const client = (purpose: 'requests' | 'uploads'): GcsClient =>
      new GcsClient({
        ...(emulator ? { apiEndpoint: emulator, projectId: env.GOOGLE_CLOUD_PROJECT ?? 'emulator' } : {}),
        retryOptions: gcsRetryOptions(purpose),
      });
    this.bucket = client('requests').bucket(this.loc.bucket);
    this.uploadBucket = client('uploads').bucket(this.loc.bucket);
  }

  async put(key: string, body: Readable, opts: PutOptions = {}): Promise<PutResult> {
    const name = objectName(this.loc, key);
    const counted = uploadBody(body, opts);
    const out = this.uploadBucket.file(name).createWriteStream({
      resumable: true,
      ...(this.chunkSize !== undefined ? { chunkSize: this.chunkSize } : {}),
      contentType: opts.contentType ?? 'application/octet-stream',
      metadata: { contentType: opts.contentType ?? 'application/octet-stream', ...(opts.retention ? { retention: gcsRetention(opts.retention) } : {}) },
    });
    let failed = true;
    try {
      await pipeline(counted.stream, out);
      failed = false;
    } catch (e) {
      const failure = counted.failure();
      if (failure) throw failure;
      throw this.wrap(e, 'upload', key);
    } finally {
      counted.dispose(failed);
    }
    const failure = counted.failure();
    if (failure) throw failure;
    return { bytes: counted.bytes() };
  }

  async putBytes(key: string, data: Buffer | string, opts: PutBytesOptions = {}): Promise<void> {
    try {
      // A single multipart request: the object appears whole or not at all.
      await this.bucket.file(objectName(this.loc, key)).save(typeof data === 'string' ? Buffer.from(data) : data, {
        resumable: false,
        contentType: opts.contentType ?? 'application/octet-stream',
        ...(opts.retention ? { metadata: { retention: gcsRetention(opts.retention) } } : {}),
      });
    } catch (e) {
      throw this.wrap(e, 'write', key);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const name = objectName(this.loc, key);
    let generation: string | number | undefined;
    let size: number | undefined;
    try {
      // Fails fast (object_not_found) before a stream is promised, and pins the version for resumed reads.
      const [meta] = await this.bucket.file(name).getMetadata();
      generation = meta.generation;
      size = meta.size === undefined ? undefined : Number(meta.size);
    } catch (e) {
      throw this.wrap(e, 'read', key);
    }
    if (range) {
      checkRange(range, size, `${this.url}/${key}`);
      if (range.end === range.start) return Readable.from([]);
    }
    const file = this.bucket.file(name, generation !== undefined ? { generation } : {});
    // The SDK's own CRC32C/MD5 check is off: the manifest's sha256 of the stored bytes is verified by the
    // reader, and a ranged (resumed) read could not be validated by the SDK anyway.
    const start = range?.start ?? 0;
    const open = async (offset: number): Promise<Readable> =>
      file.createReadStream({ start: start + offset, ...(range ? { end: range.end - 1 } : {}), validation: false });
    // The SDK's read stream neither errors nor ends when the connection breaks mid-body: the idle timeout is
    // what notices (resumable-read.ts).
    return resumableRead(await open(0), { open, size: range ? range.end - range.start : size, idleTimeoutMs: this.idleTimeoutMs });
  }

  async getBytes(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    try {
      for await (const c of await this.get(key)) chunks.push(c as Buffer);
    } catch (e) {
      throw this.wrap(e, 'read', key);
    }
    return Buffer.concat(chunks);
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    let pageToken: string | undefined;
    do {
      let files, next;
      try {
        [files, next] = await this.bucket.getFiles({
          prefix: this.loc.root + prefix,
          autoPaginate: false,
          maxResults: 1000,
          ...(pageToken ? { pageToken } : {}),
        });
      } catch (e) {
        throw this.wrap(e, 'list', prefix);
      }
      for (const f of files) {
        const m = f.metadata;
        yield {
          key: relativeKey(this.loc, f.name),
          size: Number(m.size ?? 0),
          modified: new Date(m.updated ?? m.timeCreated ?? 0),
        };
      }
      pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
    } while (pageToken);
  }

  async delete(key: string): Promise<void> {
    try {
      await this.bucket.file(objectName(this.loc, key)).delete({ ignoreNotFound: true });
    } catch (e) {
      throw this.wrap(e, 'delete', key);
    }
  }

  /** A LifeboatError naming the location, the key and what failed; never credentials. */
  private wrap(e: unknown, op: string, key: string): LifeboatError {
    if (isLifeboatError(e)) return e;
    const code = (e as { code?: unknown })?.code;
    const msg = (e as Error)?.message ?? String(e);
    const where = `${this.url}/${key}`;
    if (code === 404 && /bucket/i.test(msg) && !/object|No such object/i.test(msg)) {
      return usageError('storage_bucket_missing', `GCS bucket "${this.loc.bucket}" does not exist (${op} ${where})`,
        'Check --storage');
    }
    if (code === 404) return new LifeboatError(OBJECT_NOT_FOUND, `object ${key} not found in ${this.url}`, { exitCode: 1 });
    // Under the bucket's retention policy or the object's own retention: its time has not come.
    if (op === 'delete' && code === 403 && /retention/i.test(msg)) {
      return new LifeboatError(OBJECT_LOCKED, `GCS refused to delete ${where}: it is under retention (${msg})`, { exitCode: 1 });
    }
    if (code === 401 || code === 403) {
      return runtimeError('storage_access_denied', `GCS denied ${op} of ${where} (HTTP ${code})`,
        'Check the IAM roles of the service account the runner uses on this bucket', e);
    }
    if (/Could not load the default credentials|Unable to detect a Project Id/i.test(msg)) {
      return runtimeError('storage_credentials', `no Google Cloud credentials found for ${op} of ${where}`,
        'The runner uses Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, the metadata server ' +
          '(Cloud Run, GCE) or GKE Workload Identity', e);
    }
    return runtimeError('storage_error', `GCS ${op} of ${where} failed: ${msg}`, undefined, e);
  }
}
