/**
 * A streamed S3 upload over a fixed pool of part buffers.
 *
 * Written by hand instead of using @aws-sdk/lib-storage's Upload because Upload cannot keep its memory to a fixed
 * size: it concatenates each part into a fresh buffer (a second copy of what it buffered) and leaves every sent
 * part to the garbage collector, so a backup's array buffers peaked at 66 MiB with 8 MiB x 2 parts (bench/
 * s3-memory.ts, 400 MiB streamed) where the parts themselves are 24 MiB. Here the stream is copied once into one
 * of at most (queueSize + 1) buffers, allocated as needed and reused: queueSize parts on the wire and one being filled, so
 * upload memory is exactly (queueSize + 1) x partSize however big the dump, and nothing is left for the GC.
 *
 * The protocol is the one Upload follows: a body no bigger than one part is a single PutObject; otherwise
 * CreateMultipartUpload, UploadPart in order with up to queueSize in flight, CompleteMultipartUpload with the
 * parts' ETags (and CRC32 checksums where the client sends them, as Upload does). Each request is retried by the
 * SDK on its own. On any failure (the body errors, a part fails after its retries, Complete fails) the parts
 * still in flight are cancelled and the multipart upload is aborted before the error is thrown, so no object and
 * no billed parts remain.
 */
import {
  AbortMultipartUploadCommand,
  ChecksumAlgorithm,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { setMaxListeners } from 'node:events';
import type { Readable } from 'node:stream';
import { usageError } from '../errors';

export const MAX_PARTS = 10_000;

/** The slice of S3Client this module uses, so tests can stand in for the network. */
export interface PartSender {
  // The command types differ per call; the SDK's own `send` is generic in the same way.
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

export interface MultipartUpload {
  client: PartSender;
  Bucket: string;
  Key: string;
  ContentType: string;
  partSize: number;
  queueSize: number;
  /**
   * Ask S3 for CRC32 checksums: at creation, on every part and on a single PutObject. The SDK's WHEN_SUPPORTED
   * mode would send them anyway; an upload with an Object Lock needs them (S3 refuses locked uploads without
   * Content-MD5 or a checksum), whatever the client's mode.
   */
  checksums: boolean;
  /** S3 Object Lock retention of the object, set at creation (needs s3:PutObjectRetention). */
  lock?: { ObjectLockMode: 'GOVERNANCE' | 'COMPLIANCE'; ObjectLockRetainUntilDate: Date };
  /** Stops the upload at once, parts in flight included (the runner's SIGTERM); the upload is then aborted. */
  signal?: AbortSignal;
  /** Called with each buffer the pool allocates: lets tests prove the pool's bound. */
  onAllocate?: (bytes: number) => void;
}

interface Slot {
  buf: Buffer;
  filled: number;
}

/** Streams `body` into `Key`; resolves once the object exists whole, rejects after cleaning up otherwise. */
export async function uploadStream(u: MultipartUpload, body: Readable): Promise<void> {
  const free: Slot[] = [];
  const take = (): Slot => {
    const slot = free.pop();
    if (slot) {
      slot.filled = 0;
      return slot;
    }
    u.onAllocate?.(u.partSize);
    // allocUnsafeSlow: a buffer of its own, outside Node's shared pool; only its filled part is ever sent.
    return { buf: Buffer.allocUnsafeSlow(u.partSize), filled: 0 };
  };

  const cancel = new AbortController();
  // Each request in flight listens to it: up to queueSize parts (16 allowed), past Node's warning threshold of 10.
  setMaxListeners(u.queueSize + 2, cancel.signal);
  const inflight = new Set<Promise<void>>();
  const parts: CompletedPart[] = [];
  let uploadId: string | undefined;
  let partNumber = 0;
  let failure: unknown;

  const sendPart = async (slot: Slot): Promise<void> => {
    partNumber += 1;
    if (partNumber > MAX_PARTS) {
      throw usageError('storage_too_large', `the upload of ${u.Key} needs more than ${MAX_PARTS} parts of ${u.partSize / 2 ** 20} MiB`,
        'Raise LIFEBOAT_S3_PART_SIZE_MIB: the largest object is 10,000 x the part size');
    }
    if (uploadId === undefined) {
      const created = (await u.client.send(
        new CreateMultipartUploadCommand({
          Bucket: u.Bucket,
          Key: u.Key,
          ContentType: u.ContentType,
          ...(u.checksums ? { ChecksumAlgorithm: ChecksumAlgorithm.CRC32 } : {}),
          ...u.lock,
        }),
        { abortSignal: cancel.signal },
      )) as { UploadId?: string };
      if (!created.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
      uploadId = created.UploadId;
    }
    while (inflight.size >= u.queueSize) await Promise.race(inflight);
    if (failure !== undefined) throw failure;
    const PartNumber = partNumber;
    const sent = (u.client.send(
      new UploadPartCommand({
        Bucket: u.Bucket,
        Key: u.Key,
        UploadId: uploadId,
        PartNumber,
        Body: slot.buf.subarray(0, slot.filled),
        ...(u.checksums ? { ChecksumAlgorithm: ChecksumAlgorithm.CRC32 } : {}),
      }),
      { abortSignal: cancel.signal },
    ) as Promise<{ ETag?: string; ChecksumCRC32?: string }>).then(
      (r) => {
        if (!r.ETag) throw new Error(`UploadPart ${PartNumber} returned no ETag`);
        parts.push({ PartNumber, ETag: r.ETag, ...(r.ChecksumCRC32 ? { ChecksumCRC32: r.ChecksumCRC32 } : {}) });
        // The request is answered, so the SDK is done with the buffer (retries resend it within `send`).
        free.push(slot);
      },
    );
    // A settled part leaves the set; the first failure is kept and stops the upload at the next part boundary.
    const tracked: Promise<void> = sent.then(
      () => void inflight.delete(tracked),
      (e: unknown) => {
        inflight.delete(tracked);
        stop(e);
      },
    );
    inflight.add(tracked);
  };
  // The first failure cancels the other parts and ends the read loop at once, even while the body is idle (a
  // dump waiting on its row counts): the loop otherwise only looks at `failure` when the next chunk arrives.
  const stop = (e: unknown): void => {
    failure ??= e;
    cancel.abort();
    if (!body.destroyed) body.destroy(e instanceof Error ? e : new Error(String(e)));
  };
  const onAbort = (): void => stop(u.signal!.reason ?? Object.assign(new Error('upload aborted'), { name: 'AbortError' }));
  if (u.signal?.aborted) onAbort();
  else u.signal?.addEventListener('abort', onAbort, { once: true });

  let slot = take();
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      let at = 0;
      while (at < chunk.length) {
        if (slot.filled === u.partSize) {
          // Only sent once more data arrives: a body that fits one part exactly is still a single PutObject.
          await sendPart(slot);
          slot = take();
        }
        const n = Math.min(chunk.length - at, u.partSize - slot.filled);
        chunk.copy(slot.buf, slot.filled, at, at + n);
        slot.filled += n;
        at += n;
      }
      if (failure !== undefined) throw failure;
    }
    if (uploadId === undefined && partNumber === 0) {
      await u.client.send(
        new PutObjectCommand({
          Bucket: u.Bucket,
          Key: u.Key,
          ContentType: u.ContentType,
          Body: slot.buf.subarray(0, slot.filled),
          ...(u.checksums ? { ChecksumAlgorithm: ChecksumAlgorithm.CRC32 } : {}),
          ...u.lock,
        }),
      );
      return;
    }
    if (slot.filled > 0) await sendPart(slot);
    await Promise.all(inflight);
    if (failure !== undefined) throw failure;
    parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
    await u.client.send(
      new CompleteMultipartUploadCommand({ Bucket: u.Bucket, Key: u.Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
    );
    // Published. (Should Complete succeed but its answer be lost, the SDK's retry meets NoSuchUpload and the
    // backup fails: an object without a manifest, which the catalog ignores, is left; never a manifest without one.)
    uploadId = undefined;
  } catch (e) {
    // Taken before cancelling: the cancelled parts' own AbortErrors must not replace the real cause.
    const cause = failure ?? e;
    cancel.abort();
    await Promise.allSettled(inflight);
    if (uploadId !== undefined) {
      await u.client
        .send(new AbortMultipartUploadCommand({ Bucket: u.Bucket, Key: u.Key, UploadId: uploadId }))
        .catch(() => {
          /* the store is unreachable: the bucket's AbortIncompleteMultipartUpload lifecycle rule cleans up */
        });
    }
    throw cause;
  } finally {
    u.signal?.removeEventListener('abort', onAbort);
  }
}
