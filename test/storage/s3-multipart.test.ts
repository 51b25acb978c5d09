/**
 * The pooled multipart upload (runner/storage/s3-multipart.ts) against a recorded stand-in for S3Client: which
 * requests it makes for each body size, that memory stays at (queueSize + 1) part buffers however long the body,
 * and that every failure aborts the upload after the parts in flight have settled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { uploadStream, type PartSender } from '../../runner/storage/s3-multipart';

const PART = 64 * 1024;

interface Call {
  name: string;
  input: Record<string, unknown>;
}

/** Answers like S3 after `delayMs`, keeps each part's bytes (copied: the pool reuses its buffers), fails on demand. */
function fakeS3(opts: { delayMs?: number; failPart?: number } = {}): PartSender & { calls: Call[]; parts: Map<number, Buffer>; maxInFlight: number } {
  let inFlight = 0;
  const fake = {
    calls: [] as Call[],
    parts: new Map<number, Buffer>(),
    maxInFlight: 0,
    async send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown> {
      const c = command as { constructor: { name: string }; input: Record<string, unknown> };
      const name = c.constructor.name.replace(/Command$/, '');
      fake.calls.push({ name, input: c.input });
      if (name === 'CreateMultipartUpload') return { UploadId: 'u-1' };
      if (name === 'UploadPart') {
        const n = c.input.PartNumber as number;
        const body = Buffer.from(c.input.Body as Buffer);
        inFlight++;
        fake.maxInFlight = Math.max(fake.maxInFlight, inFlight);
        try {
          await new Promise<void>((resolve, reject) => {
            // Like the SDK's HTTP handler, the listener goes away with the request.
            const onAbort = (): void => {
              clearTimeout(t);
              reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
            };
            const t = setTimeout(() => {
              options?.abortSignal?.removeEventListener('abort', onAbort);
              resolve();
            }, opts.delayMs ?? 1);
            options?.abortSignal?.addEventListener('abort', onAbort, { once: true });
          });
        } finally {
          inFlight--;
        }
        if (n === opts.failPart) throw Object.assign(new Error('We encountered an internal error.'), { name: 'InternalError' });
        fake.parts.set(n, body);
        return { ETag: `"etag-${n}"` };
      }
      return {};
    },
  };
  return fake;
}

function bytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 9)) & 0xff;
  return b;
}

/** A body as a pipe delivers it: chunks of odd sizes that do not line up with the parts. */
function body(data: Buffer, chunk = 10_007): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += chunk) chunks.push(data.subarray(at, at + chunk));
  return Readable.from(chunks);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function target(client: PartSender, extra: { queueSize?: number; checksums?: boolean; onAllocate?: (n: number) => void } = {}) {
  return { client, Bucket: 'b', Key: 'prod/x/dump.pgc.zst', ContentType: 'application/octet-stream', partSize: PART, queueSize: 2, checksums: false, ...extra };
}

test('a body no bigger than one part is one PutObject, including an empty one and one of exactly a part', async () => {
  for (const n of [0, 1000, PART]) {
    const s3 = fakeS3();
    const data = bytes(n);
    await uploadStream(target(s3), body(data));
    assert.deepEqual(s3.calls.map((c) => c.name), ['PutObject'], `${n} bytes`);
    assert.equal(sha(s3.calls[0]!.input.Body as Buffer), sha(data));
  }
});

test('a long body goes up in parts, in order, completed with every ETag; a last part that fills exactly is not sent empty', async () => {
  for (const n of [PART * 5 + 123, PART * 4]) {
    const s3 = fakeS3();
    const data = bytes(n);
    await uploadStream(target(s3), body(data));
    const names = s3.calls.map((c) => c.name);
    const partCount = Math.ceil(n / PART);
    assert.deepEqual(names, ['CreateMultipartUpload', ...Array(partCount).fill('UploadPart'), 'CompleteMultipartUpload']);
    const joined = Buffer.concat([...s3.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b));
    assert.equal(sha(joined), sha(data), 'the parts put together are the body');
    const complete = s3.calls.at(-1)!.input as { MultipartUpload: { Parts: { PartNumber: number; ETag: string }[] } };
    assert.deepEqual(complete.MultipartUpload.Parts.map((p) => p.PartNumber), Array.from({ length: partCount }, (_, i) => i + 1));
    assert.equal(complete.MultipartUpload.Parts[0]!.ETag, '"etag-1"');
  }
});

test('memory is (queueSize + 1) part buffers however long the body, with queueSize parts on the wire', async () => {
  const s3 = fakeS3({ delayMs: 3 });
  let allocated = 0;
  await uploadStream(target(s3, { queueSize: 2, onAllocate: (n) => (allocated += n) }), body(bytes(PART * 40 + 5)));
  assert.equal(allocated, 3 * PART, `41 parts sent from ${allocated / PART} buffers`);
  assert.equal(s3.maxInFlight, 2);
});

test('CRC32 checksums are asked for at creation when the client sends them (AWS), and not otherwise', async () => {
  const on = fakeS3();
  await uploadStream(target(on, { checksums: true }), body(bytes(PART * 2 + 1)));
  assert.equal(on.calls[0]!.input.ChecksumAlgorithm, 'CRC32');
  const off = fakeS3();
  await uploadStream(target(off), body(bytes(PART * 2 + 1)));
  assert.equal(off.calls[0]!.input.ChecksumAlgorithm, undefined);
});

test('an Object Lock goes on CreateMultipartUpload (or the single PutObject), with CRC32 checksums on every request', async () => {
  const lock = { ObjectLockMode: 'GOVERNANCE' as const, ObjectLockRetainUntilDate: new Date('2034-01-01T00:00:00Z') };
  const multi = fakeS3();
  await uploadStream({ ...target(multi, { checksums: true }), lock }, body(bytes(PART * 2 + 1)));
  const create = multi.calls[0]!;
  assert.equal(create.name, 'CreateMultipartUpload');
  assert.equal(create.input.ObjectLockMode, 'GOVERNANCE');
  assert.deepEqual(create.input.ObjectLockRetainUntilDate, lock.ObjectLockRetainUntilDate);
  for (const part of multi.calls.filter((c) => c.name === 'UploadPart')) assert.equal(part.input.ChecksumAlgorithm, 'CRC32');
  const single = fakeS3();
  await uploadStream({ ...target(single, { checksums: true }), lock: { ...lock, ObjectLockMode: 'COMPLIANCE' } }, body(bytes(1000)));
  assert.equal(single.calls[0]!.name, 'PutObject');
  assert.equal(single.calls[0]!.input.ObjectLockMode, 'COMPLIANCE');
  assert.equal(single.calls[0]!.input.ChecksumAlgorithm, 'CRC32');
  const none = fakeS3();
  await uploadStream(target(none), body(bytes(PART * 2 + 1)));
  assert.ok(none.calls.every((c) => c.input.ObjectLockMode === undefined && c.input.ChecksumAlgorithm === undefined));
});

test('a part that fails after its retries aborts the upload, once the other parts have settled, and rejects with its error', async () => {
  const s3 = fakeS3({ failPart: 3 });
  await assert.rejects(uploadStream(target(s3), body(bytes(PART * 10))), /internal error/);
  const names = s3.calls.map((c) => c.name);
  assert.equal(names.at(-1), 'AbortMultipartUpload');
  assert.ok(!names.includes('CompleteMultipartUpload'));
  assert.deepEqual(s3.calls.at(-1)!.input, { Bucket: 'b', Key: 'prod/x/dump.pgc.zst', UploadId: 'u-1' });
  assert.ok(names.filter((n) => n === 'UploadPart').length < 10, 'no parts are sent after the failure');
});

test('a body that errors halfway aborts the upload and rejects with the body\'s own error, not the cancelled parts\'', async () => {
  const s3 = fakeS3({ delayMs: 20 });
  const data = bytes(PART * 3 + 10);
  const src = new Readable({ read() {} });
  src.push(data);
  setTimeout(() => src.destroy(new Error('pg_dump exited with code 1')), 5);
  await assert.rejects(uploadStream(target(s3), src), /pg_dump exited with code 1/);
  assert.equal(s3.calls.at(-1)!.name, 'AbortMultipartUpload');
});

test('more parts than S3 allows is refused naming the setting that raises the limit', async () => {
  // 10,001 parts of 5 bytes: the part count, not the bytes, is what is checked.
  const s3 = fakeS3({ delayMs: 0 });
  await assert.rejects(uploadStream({ ...target(s3), partSize: 5, queueSize: 16 }, body(bytes(5 * 10_001 + 1), 4096)), (e: Error) => {
    assert.match(e.message, /needs more than 10000 parts/);
    assert.match((e as Error & { hint?: string }).hint ?? '', /LIFEBOAT_S3_PART_SIZE_MIB/);
    return true;
  });
  assert.equal(s3.calls.at(-1)!.name, 'AbortMultipartUpload');
});

test('a failed part ends the upload at once, even while the body is idle (a dump waiting on its row counts)', async () => {
  const s3 = fakeS3({ failPart: 1 });
  const src = new Readable({ read() {} });
  src.push(bytes(PART * 2 + 1)); // two parts' worth, then nothing more for now
  const t0 = Date.now();
  await assert.rejects(uploadStream(target(s3), src), /internal error/);
  assert.ok(Date.now() - t0 < 1000, `rejected after ${Date.now() - t0} ms`);
  assert.equal(s3.calls.at(-1)!.name, 'AbortMultipartUpload');
});

test('the abort signal cancels the parts in flight and aborts the upload', async () => {
  const s3 = fakeS3({ delayMs: 60_000 }); // parts that would hang for a minute
  const ac = new AbortController();
  const src = new Readable({ read() {} });
  src.push(bytes(PART * 3 + 1));
  setTimeout(() => ac.abort(new Error('interrupted by SIGTERM')), 20);
  const t0 = Date.now();
  await assert.rejects(uploadStream({ ...target(s3), signal: ac.signal }, src), /interrupted by SIGTERM/);
  assert.ok(Date.now() - t0 < 1000, `rejected after ${Date.now() - t0} ms`);
  assert.equal(s3.calls.at(-1)!.name, 'AbortMultipartUpload');
});
