/**
 * Amazon S3 and S3-compatible stores (MinIO, R2, Ceph, emulators) as storage: `s3://bucket/prefix`.
 *
 * Credentials: only the AWS SDK's default chain (environment, shared config/profile, IRSA web identity, ECS task
 * role, EC2 instance profile). No keys in flags or URLs.
 *
 * Uploads stream as a multipart upload in PART_SIZE parts with QUEUE_SIZE parts in flight, over a fixed pool of
 * QUEUE_SIZE + 1 part buffers (s3-multipart.ts, which says why that is not @aws-sdk/lib-storage): 18 MiB with the
 * defaults, whatever the object size. 6 MiB x 2 keeps two parts on the wire (with one, the connection idles while
 * each part's response comes back) and fits a 50 GB dump (46.6 GiB) within 10,000 parts with a quarter to spare:
 * the largest object is 58.6 GiB. 8 MiB parts cost 6 MiB more of peak memory (bench (d): process tree 141.5 against
 * 137.4 MiB, the target being 150 MB = 143 MiB). LIFEBOAT_S3_PART_SIZE_MIB raises the part size for bigger dumps,
 * LIFEBOAT_S3_QUEUE_SIZE the parts in flight for faster links, each at the cost of memory. On any failure (source
 * stream error, abort signal, a part that fails after the SDK's retries) the multipart upload is aborted before
 * `put` rejects, so no object and no billed parts remain. (A crash of the whole process can still leave an
 * incomplete upload behind: the bucket's lifecycle rule AbortIncompleteMultipartUpload, set by the infra, cleans
 * those up.)
 *
 * Retries: the SDK's 'standard' retry mode with 6 attempts per request (exponential backoff with full jitter,
 * capped at 20 s) on throttling, 5xx and network errors; parts are buffered, so each part is retried on its
 * own. Downloads that break halfway (or stall for LIFEBOAT_STORAGE_IDLE_TIMEOUT_S) are resumed with ranged reads
 * pinned to the object's ETag (resumable-read.ts).
 *
 * S3-compatible stores: `--s3-endpoint` implies path-style addressing, and request checksums are only sent when
 * an operation requires them (`requestChecksumCalculation: 'WHEN_REQUIRED'`): the SDK's default since 2025 adds
 * CRC32 trailers that MinIO (older releases), R2 and most emulators reject. Integrity does not depend on them:
 * the manifest's sha256 of the stored bytes is checked before any restore.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { LifeboatError, isLifeboatError, runtimeError, usageError } from '../errors';
import { bucketLocation, objectName, relativeKey, type BucketLocation } from './keys';
import { idleTimeoutMs, resumableRead } from './resumable-read';
import { checkRange } from './range';
import { OBJECT_LOCKED, OBJECT_NOT_FOUND, type ByteRange, type ObjectRetention, type PutBytesOptions, type PutOptions, type PutResult, type Storage, type StorageFactory, type StorageOptions, type StoredObject } from './types';
import { uploadStream } from './s3-multipart';
import { uploadBody } from './upload-body';

const MiB = 1024 * 1024;
export const DEFAULT_PART_SIZE = 6 * MiB;
export const QUEUE_SIZE = 2;
const MAX_ATTEMPTS = 6;

// The SDK warns on every run under Node 20 that releases after January 2027 will need Node 22. The runner pins
// its SDK and Node versions, and its stderr is a structured log stream: keep that notice out of it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const createS3Storage: StorageFactory = (url, opts) => new S3Storage(url, opts);

/** The S3 client settings for a storage location; exported so tests can check them without a network. */
export function s3ClientConfig(opts: StorageOptions): S3ClientConfig {
  const env = opts.env ?? process.env;
  const endpoint = opts.s3Endpoint;
  if (endpoint !== undefined) {
    let u: URL;
    try {
      u = new URL(endpoint);
    } catch {
      throw usageError('s3_endpoint', `--s3-endpoint expected an http(s) URL such as https://minio.example:9000, got "${redactUrl(endpoint)}"`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw usageError('s3_endpoint', `--s3-endpoint expected an http(s) URL, got scheme "${u.protocol}"`);
    }
    if (u.username || u.password) {
      throw usageError('s3_endpoint', '--s3-endpoint must not carry credentials: use the AWS default credential chain');
    }
  }
  return {
    region: opts.s3Region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    // A bucket in another region than the configured one is followed instead of failing with a redirect.
    followRegionRedirects: true,
    maxAttempts: MAX_ATTEMPTS,
    retryMode: 'standard',
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 300_000 },
    ...(endpoint !== undefined
      ? {
          endpoint,
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }
      : {}),
  };
}

/** Part size in bytes: LIFEBOAT_S3_PART_SIZE_MIB (5..4096; S3 allows 5 GiB, a Node Buffer 4 GiB) or 6 MiB. */
export function partSize(env: NodeJS.ProcessEnv): number {
  const raw = env.LIFEBOAT_S3_PART_SIZE_MIB;
  if (raw === undefined || raw === '') return DEFAULT_PART_SIZE;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 5 || n > 4096) {
    throw usageError('s3_part_size', `LIFEBOAT_S3_PART_SIZE_MIB expected a whole number of MiB from 5 to 4096, got "${raw}"`);
  }
  return n * MiB;
}

/** Parts in flight at once: LIFEBOAT_S3_QUEUE_SIZE (1..16) or QUEUE_SIZE. Each one costs a part of memory. */
export function queueSize(env: NodeJS.ProcessEnv): number {
  const raw = env.LIFEBOAT_S3_QUEUE_SIZE;
  if (raw === undefined || raw === '') return QUEUE_SIZE;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 16) {
    throw usageError('s3_queue_size', `LIFEBOAT_S3_QUEUE_SIZE expected a whole number from 1 to 16, got "${raw}"`);
  }
  return n;
}

/** S3 Object Lock headers for a retention (PutObject, CreateMultipartUpload). */
export function s3LockParams(r: ObjectRetention): { ObjectLockMode: 'GOVERNANCE' | 'COMPLIANCE'; ObjectLockRetainUntilDate: Date } {
  return { ObjectLockMode: r.mode === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE', ObjectLockRetainUntilDate: r.retainUntil };
}

export class S3Storage implements Storage {
  readonly url: string;
  /** Object Lock works only in a bucket created with it; elsewhere S3 refuses the upload, naming the bucket. */
  readonly objectLock = true;
  private readonly loc: BucketLocation;
  private readonly client: S3Client;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly idleTimeoutMs: number;

  constructor(url: URL, opts: StorageOptions = {}) {
    this.loc = bucketLocation(url);
    this.url = this.loc.url;
    this.client = new S3Client(s3ClientConfig(opts));
    this.partSize = partSize(opts.env ?? process.env);
    this.queueSize = queueSize(opts.env ?? process.env);
    this.idleTimeoutMs = idleTimeoutMs(opts.env ?? process.env);
  }

  async put(key: string, body: Readable, opts: PutOptions = {}): Promise<PutResult> {
    const Key = objectName(this.loc, key);
    const counted = uploadBody(body, opts);
    let failed = true;
    try {
      await uploadStream(
        {
          client: this.client,
          Bucket: this.loc.bucket,
          Key,
          ContentType: opts.contentType ?? 'application/octet-stream',
          partSize: this.partSize,
          queueSize: this.queueSize,
          checksums: opts.retention !== undefined || (await this.client.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED',
          ...(opts.retention ? { lock: s3LockParams(opts.retention) } : {}),
          signal: opts.signal,
        },
        counted.stream,
      );
      failed = false;
    } catch (e) {
      // The multipart upload is aborted by now; a failure of the body itself is reported as the body's error.
      throw counted.failure() ?? this.wrap(e, 'upload', key);
    } finally {
      counted.dispose(failed);
    }
    const failure = counted.failure();
    if (failure) throw failure; // cannot normally happen: a failed body never completes an upload
    return { bytes: counted.bytes() };
  }

  async putBytes(key: string, data: Buffer | string, opts: PutBytesOptions = {}): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.loc.bucket,
          Key: objectName(this.loc, key),
          Body: typeof data === 'string' ? Buffer.from(data) : data,
          ContentType: opts.contentType ?? 'application/octet-stream',
          // A locked upload needs a checksum (see s3-multipart.ts); the SDK computes it for the body.
          ...(opts.retention ? { ...s3LockParams(opts.retention), ChecksumAlgorithm: 'CRC32' as const } : {}),
        }),
      );
    } catch (e) {
      throw this.wrap(e, 'write', key);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const Key = objectName(this.loc, key);
    if (range) {
      checkRange(range, undefined, `${this.url}/${key}`);
      if (range.end === range.start) return Readable.from([]);
    }
    const first = await this.getFrom(key, Key, 0, undefined, range);
    return resumableRead(first.body, {
      // Pin the resumed reads to the version we started with: a changed object must not be spliced in.
      open: async (offset) => (await this.getFrom(key, Key, offset, first.etag, range)).body,
      // A ranged response's length is the range's: a range past the object's end is a short read.
      size: range ? range.end - range.start : first.size,
      idleTimeoutMs: this.idleTimeoutMs,
    });
  }

  /** From `offset` bytes into the object, or into `range`, to its end. */
  private async getFrom(key: string, Key: string, offset: number, etag?: string, range?: ByteRange): Promise<{ body: Readable; etag?: string; size?: number }> {
    const from = (range?.start ?? 0) + offset;
    const to = range ? String(range.end - 1) : '';
    try {
      const r = await this.client.send(
        new GetObjectCommand({
          Bucket: this.loc.bucket,
          Key,
          ...(from > 0 || range ? { Range: `bytes=${from}-${to}` } : {}),
          ...(etag ? { IfMatch: etag } : {}),
        }),
      );
      return { body: r.Body as Readable, etag: r.ETag, size: r.ContentLength };
    } catch (e) {
      throw this.wrap(e, 'read', key);
    }
  }

  async getBytes(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.get(key)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.loc.bucket,
            Prefix: this.loc.root + prefix,
            ContinuationToken: token,
            MaxKeys: 1000,
          }),
        );
      } catch (e) {
        throw this.wrap(e, 'list', prefix);
      }
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        yield { key: relativeKey(this.loc, o.Key), size: o.Size ?? 0, modified: o.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated && !token) {
        throw runtimeError('storage_list', `listing ${this.url}/${prefix} returned a truncated page without a continuation token`);
      }
    } while (token);
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.loc.bucket, Key: objectName(this.loc, key) }));
    } catch (e) {
      const err = this.wrap(e, 'delete', key);
      if (err.code === OBJECT_NOT_FOUND) return;
      throw err;
    }
  }

  /** A LifeboatError naming the location, the key and what failed; never credentials. */
  private wrap(e: unknown, op: string, key: string): LifeboatError {
    if (isLifeboatError(e)) return e;
    const name = (e as { name?: string })?.name ?? '';
    const status = e instanceof S3ServiceException ? e.$metadata?.httpStatusCode : undefined;
    const where = `${this.url}/${key}`;
    if (name === 'NoSuchKey' || name === 'NotFound' || (status === 404 && name !== 'NoSuchBucket')) {
      return new LifeboatError(OBJECT_NOT_FOUND, `object ${key} not found in ${this.url}`, { exitCode: 1 });
    }
    if (name === 'NoSuchBucket') {
      return usageError('storage_bucket_missing', `S3 bucket "${this.loc.bucket}" does not exist (${op} ${where})`,
        'Check --storage, --s3-region and --s3-endpoint');
    }
    // A version under Object Lock (a delete naming the version; a plain delete in a versioned bucket only adds a
    // delete marker, which S3 allows).
    if (op === 'delete' && (status === 403 || name === 'AccessDenied') && /object lock|retention|WORM/i.test((e as Error)?.message ?? '')) {
      return new LifeboatError(OBJECT_LOCKED, `S3 refused to delete ${where}: it is under Object Lock retention`, { exitCode: 1 });
    }
    if (name === 'InvalidRequest' && /object ?lock/i.test((e as Error)?.message ?? '')) {
      return usageError('storage_object_lock', `S3 refused a locked ${op} of ${where}: ${(e as Error).message}`,
        `Object Lock needs a bucket created with it; unset LIFEBOAT_OBJECT_LOCK for bucket "${this.loc.bucket}" or enable Object Lock on it`);
    }
    if (name === 'AccessDenied' || name === 'Forbidden' || status === 403) {
      return runtimeError('storage_access_denied', `S3 denied ${op} of ${where} (${name || status})`,
        'Check the IAM policy of the identity the runner uses for this bucket and prefix', e);
    }
    if (name === 'CredentialsProviderError' || /Could not load credentials/i.test((e as Error)?.message ?? '')) {
      return runtimeError('storage_credentials', `no AWS credentials found for ${op} of ${where}`,
        'The runner uses the AWS default chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, IRSA ' +
          '(AWS_WEB_IDENTITY_TOKEN_FILE), the ECS task role or the EC2 instance profile', e);
    }
    if (name === 'PreconditionFailed' || status === 412) {
      return runtimeError('storage_changed', `S3 object ${where} changed while it was being read`, undefined, e);
    }
    const msg = (e as Error)?.message ?? String(e);
    return runtimeError('storage_error', `S3 ${op} of ${where} failed: ${name ? `${name}: ` : ''}${msg}`, undefined, e);
  }
}

function redactUrl(s: string): string {
  return s.replace(/\/\/[^/@]*@/, '//***@');
}
