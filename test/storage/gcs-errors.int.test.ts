/**
 * GCS retries and error messages for requests (uploads: gcs-chunked.int.test.ts), against the Firebase Storage
 * emulator behind a proxy that answers some requests itself: 503 and reset connections are retried, 403 fails
 * at once naming the bucket and the object.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { LifeboatError } from '../../runner/errors';
import { openStorage } from '../../runner/storage/open';
import type { Storage } from '../../runner/storage/types';
import { startGcsEmulator, type GcsEmulator } from '../harness/gcs';
import { startFaultProxy, type FaultProxy } from './fault-proxy';

let emu: GcsEmulator;
let proxy: FaultProxy;
let s: Storage;
const unavailable = { status: 503, headers: { 'content-type': 'application/json' }, body: '{"error":{"code":503,"message":"Service Unavailable"}}' };
const denied = { status: 403, headers: { 'content-type': 'application/json' }, body: '{"error":{"code":403,"message":"runner@p.iam.gserviceaccount.com does not have storage.objects.get access"}}' };

const path = (req: IncomingMessage): string => new URL(req.url ?? '/', 'http://x').pathname;
const media = (req: IncomingMessage): boolean => req.method === 'GET' && /alt=media/.test(req.url ?? '');
const objectMeta = (req: IncomingMessage): boolean => req.method === 'GET' && /\/o\/./.test(path(req)) && !/alt=media/.test(req.url ?? '');
const listing = (req: IncomingMessage): boolean => req.method === 'GET' && /\/o$/.test(path(req));
const simpleUpload = (req: IncomingMessage): boolean => req.method === 'POST' && /uploadType=multipart/.test(req.url ?? '');

before(async () => {
  emu = await startGcsEmulator();
  proxy = await startFaultProxy(emu.host);
  // A short idle timeout: the SDK's read stream goes silent when its connection breaks (see gcs.ts).
  s = await openStorage('gs://lifeboat-errors/prod', {
    env: { ...process.env, ...emu.env, STORAGE_EMULATOR_HOST: proxy.endpoint, LIFEBOAT_STORAGE_IDLE_TIMEOUT_S: '2' },
  });
});
after(async () => {
  await proxy?.stop();
  await emu?.stop();
});
beforeEach(() => proxy.clearLog());

test('503 and reset connections on writes, metadata, reads and listings are retried', async () => {
  proxy.inject(1, simpleUpload, unavailable);
  await s.putBytes('daily/postgres/app/1/manifest.json', '{"ok":true}');
  proxy.inject(1, objectMeta, unavailable);
  proxy.inject(1, media, 'reset');
  assert.equal((await s.getBytes('daily/postgres/app/1/manifest.json')).toString(), '{"ok":true}');
  proxy.inject(1, listing, unavailable);
  const keys: string[] = [];
  for await (const o of s.list('daily/')) keys.push(o.key);
  assert.deepEqual(keys, ['daily/postgres/app/1/manifest.json']);
  assert.equal(proxy.log().filter((q) => q.injected).length, 4, 'every injected failure was met and retried past');
});

// A timeout, so a read that hangs (as it did before the idle timeout) fails the test instead of stalling it.
test('a download that breaks halfway is resumed where it broke, pinned to the same generation', { timeout: 30_000 }, async () => {
  const data = Buffer.alloc(3 * 1024 * 1024, 7);
  data.writeUInt32BE(0xdeadbeef, 2 * 1024 * 1024);
  await s.putBytes('daily/postgres/app/2/dump.pgc.zst', data);
  proxy.clearLog();
  proxy.inject(1, media, { cutResponseAfter: 1024 * 1024 + 5 });
  const back = await s.getBytes('daily/postgres/app/2/dump.pgc.zst');
  assert.ok(back.equals(data));
  const reads = proxy.log().filter((q) => q.method === 'GET' && /alt=media/.test(q.url));
  assert.equal(reads.length, 2, 'one break, one resumed read');
  const range = /^bytes=(\d+)-$/.exec(String(reads[1]!.headers.range));
  assert.ok(range && Number(range[1]) > 0 && Number(range[1]) <= 1024 * 1024 + 5, `resumed with ${reads[1]!.headers.range}`);
  assert.match(reads[1]!.url, /[?&]generation=\d+/, 'the resumed read is pinned to the generation of the first');
});

test('403 fails at once (no retries), naming the bucket and the object, not the service account message', async () => {
  proxy.inject(100, objectMeta, denied);
  await assert.rejects(s.getBytes('daily/postgres/app/1/manifest.json'), (e: unknown) => {
    assert.ok(e instanceof LifeboatError, String(e));
    assert.equal(e.code, 'storage_access_denied');
    assert.equal(e.exitCode, 1);
    assert.match(e.message, /^GCS denied read of gs:\/\/lifeboat-errors\/prod\/daily\/postgres\/app\/1\/manifest\.json \(HTTP 403\)$/);
    return true;
  });
  assert.equal(proxy.log().length, 1, 'one request, not retried');
});

test('a missing object is object_not_found at once', async () => {
  await assert.rejects(s.getBytes('daily/none.json'), (e: unknown) => e instanceof LifeboatError && e.code === 'object_not_found' && /object daily\/none\.json not found in gs:\/\/lifeboat-errors\/prod/.test(e.message));
  assert.equal(proxy.log().length, 1);
});
