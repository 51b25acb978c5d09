/**
 * S3 retries and error messages, against s3rver behind a proxy that answers some requests itself: transient
 * failures (503 SlowDown, 500, reset connections) are retried by the SDK and the operation succeeds;
 * permanent ones (403 AccessDenied, a missing bucket) fail at once with a message naming the location and the
 * object, never the credentials.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { LifeboatError } from '../../runner/errors';
import { openStorage } from '../../runner/storage/open';
import type { Storage } from '../../runner/storage/types';
import { startS3rver, type S3Emulator } from '../harness/s3';
import { randomSource } from './contract';
import { startFaultProxy, type FaultProxy } from './fault-proxy';

const BUCKET = 'lifeboat-errors';
const MiB = 1024 * 1024;
let emu: S3Emulator;
let proxy: FaultProxy;
let s: Storage;

const xmlError = (code: string, message: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>r1</RequestId></Error>`;
const slowDown = { status: 503, body: xmlError('SlowDown', 'Please reduce your request rate.') };
const internal = { status: 500, body: xmlError('InternalError', 'We encountered an internal error.') };
const denied = { status: 403, body: xmlError('AccessDenied', 'Access Denied') };

const uploadPart = (req: IncomingMessage): boolean => req.method === 'PUT' && /[?&]partNumber=/.test(req.url ?? '');
const startUpload = (req: IncomingMessage): boolean => req.method === 'POST' && /[?&]uploads/.test(req.url ?? '');
const putObject = (req: IncomingMessage): boolean => req.method === 'PUT' && !/[?&]partNumber=/.test(req.url ?? '');
const getObject = (req: IncomingMessage): boolean => req.method === 'GET' && !/list-type=2/.test(req.url ?? '');
const listObjects = (req: IncomingMessage): boolean => req.method === 'GET' && /list-type=2/.test(req.url ?? '');

before(async () => {
  emu = await startS3rver();
  Object.assign(process.env, emu.env);
  await emu.createBucket(BUCKET);
  proxy = await startFaultProxy(emu.endpoint);
  s = await openStorage(`s3://${BUCKET}/prod`, { s3Endpoint: proxy.endpoint });
});
after(async () => {
  await proxy?.stop();
  await emu?.stop();
});
beforeEach(() => proxy.clearLog());

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

test('503 SlowDown, 500 and reset connections on parts are retried; the object is whole', async () => {
  proxy.inject(2, uploadPart, slowDown);
  proxy.inject(1, uploadPart, 'reset');
  proxy.inject(1, startUpload, internal);
  const src = randomSource(20 * MiB + 7);
  const r = await s.put('daily/postgres/app/x/dump.pgc.zst', src.stream);
  assert.equal(r.bytes, 20 * MiB + 7);
  const injected = proxy.log().filter((q) => q.injected);
  assert.equal(injected.length, 4, 'every injected failure was met and retried past');
  const back = await s.getBytes('daily/postgres/app/x/dump.pgc.zst');
  assert.equal(sha256(back), src.sha256());
});

test('reads, listings and small writes are retried too', async () => {
  proxy.inject(1, putObject, slowDown);
  await s.putBytes('daily/postgres/app/x/manifest.json', '{"ok":true}');
  proxy.inject(1, getObject, internal);
  proxy.inject(1, getObject, 'reset');
  assert.equal((await s.getBytes('daily/postgres/app/x/manifest.json')).toString(), '{"ok":true}');
  proxy.inject(1, listObjects, slowDown);
  const keys: string[] = [];
  for await (const o of s.list('daily/')) keys.push(o.key);
  assert.deepEqual(keys.sort(), ['daily/postgres/app/x/dump.pgc.zst', 'daily/postgres/app/x/manifest.json']);
  assert.equal(proxy.log().filter((q) => q.injected).length, 4);
});

test('a download that breaks halfway is resumed where it broke, pinned to the same object version', async () => {
  const data = Buffer.alloc(3 * MiB, 7);
  data.writeUInt32BE(0xdeadbeef, 2 * MiB);
  await s.putBytes('daily/postgres/app/z/dump.pgc.zst', data);
  proxy.clearLog();
  proxy.inject(1, getObject, { cutResponseAfter: MiB + 5 });
  const back = await s.getBytes('daily/postgres/app/z/dump.pgc.zst');
  assert.equal(sha256(back), sha256(data));
  const gets = proxy.log().filter((q) => q.method === 'GET');
  assert.equal(gets.length, 2, 'one break, one resumed read');
  const range = /^bytes=(\d+)-$/.exec(String(gets[1]!.headers.range));
  assert.ok(range && Number(range[1]) > 0 && Number(range[1]) <= MiB + 5, `resumed with ${gets[1]!.headers.range}`);
  assert.ok(gets[1]!.headers['if-match'], 'the resumed read is pinned to the ETag of the first');
});

async function deniedFast(p: Promise<unknown>, op: string, where: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof LifeboatError, String(e));
    assert.equal(e.code, 'storage_access_denied');
    assert.equal(e.exitCode, 1);
    assert.ok(e.message.includes(`S3 denied ${op} of s3://${BUCKET}/prod/${where}`), e.message);
    assert.ok(!e.message.includes('S3RVER') && !(e.hint ?? '').includes('S3RVER'), 'no credentials in the error');
    return true;
  });
}

test('403 AccessDenied fails at once (no retries), naming the bucket and the object', async () => {
  proxy.inject(100, putObject, denied);
  await deniedFast(s.putBytes('daily/postgres/app/y/manifest.json', '{}'), 'write', 'daily/postgres/app/y/manifest.json');
  assert.equal(proxy.log().length, 1, 'one request, not retried');

  proxy.clearLog();
  proxy.inject(100, startUpload, denied);
  await deniedFast(s.put('daily/postgres/app/y/dump.pgc.zst', randomSource(12 * MiB).stream), 'upload', 'daily/postgres/app/y/dump.pgc.zst');
  assert.deepEqual(proxy.log().map((q) => q.method), ['POST'], 'one request, not retried');

  proxy.clearLog();
  proxy.inject(100, getObject, denied);
  await deniedFast(s.getBytes('daily/postgres/app/x/manifest.json'), 'read', 'daily/postgres/app/x/manifest.json');
  assert.equal(proxy.log().length, 1);
});

test('a missing bucket is a usage error naming it; a missing object is object_not_found, both without retries', async () => {
  const missing = await openStorage('s3://no-such-bucket-here/prod', { s3Endpoint: proxy.endpoint });
  const keys = async (): Promise<void> => {
    for await (const o of missing.list('daily/')) void o;
  };
  await assert.rejects(keys(), (e: unknown) => {
    assert.ok(e instanceof LifeboatError, String(e));
    assert.equal(e.code, 'storage_bucket_missing');
    assert.equal(e.exitCode, 2);
    assert.match(e.message, /S3 bucket "no-such-bucket-here" does not exist \(list s3:\/\/no-such-bucket-here\/prod\/daily\/\)/);
    return true;
  });
  assert.equal(proxy.log().length, 1);
  proxy.clearLog();
  await assert.rejects(s.getBytes('daily/none.json'), (e: unknown) => e instanceof LifeboatError && e.code === 'object_not_found' && /object daily\/none\.json not found in s3:\/\/lifeboat-errors\/prod/.test(e.message));
  assert.equal(proxy.log().length, 1);
});
