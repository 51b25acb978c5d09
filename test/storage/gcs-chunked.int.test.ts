/**
 * The chunked resumable upload that production GCS gets (the Firebase emulator cannot take it), against a double
 * of the resumable-upload protocol: the object is whole and appears only when finalized, a failing source or an
 * abort leaves nothing, transient failures of a chunk are resent from where the server stands, and a 403 fails
 * naming the object.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { LifeboatError } from '../../runner/errors';
import { CHUNK_SIZE, chunkSize, gcsRetryOptions } from '../../runner/storage/gcs';
import { openStorage } from '../../runner/storage/open';
import type { Storage } from '../../runner/storage/types';
import { randomSource } from './contract';
import { startFakeGcs, type FakeGcs } from './gcs-resumable-server';

const MiB = 1024 * 1024;
let fake: FakeGcs;
let s: Storage;

before(async () => {
  fake = await startFakeGcs();
  s = await openStorage('gs://bkt/prod', {
    env: { STORAGE_EMULATOR_HOST: fake.host, GOOGLE_CLOUD_PROJECT: 'lifeboat-test', LIFEBOAT_GCS_CHUNK_SIZE_MIB: '1' },
  });
});
after(async () => {
  await fake?.stop();
});
beforeEach(() => {
  fake.chunks.length = 0;
});

const sha256 = (b: Buffer | undefined): string => createHash('sha256').update(b ?? Buffer.alloc(0)).digest('hex');

test('a stream goes up in chunks and the object appears whole when the session is finalized', async () => {
  const total = 5 * MiB + 4321;
  const src = randomSource(total);
  const r = await s.put('daily/postgres/app/1/dump.pgc.zst', src.stream);
  assert.equal(r.bytes, total);
  assert.equal(sha256(fake.objects.get('bkt/prod/daily/postgres/app/1/dump.pgc.zst')), src.sha256());
  assert.deepEqual(
    fake.chunks.map((c) => c.range),
    [0, 1, 2, 3, 4].map((i) => `bytes ${i * MiB}-${(i + 1) * MiB - 1}/*`).concat(`bytes ${5 * MiB}-${total - 1}/${total}`),
    'one request per 1 MiB chunk; only the last one names the total (and so finalizes)',
  );
});

test('a source that fails after some chunks leaves an unfinalized session and no object', async () => {
  // Fails only once the server has taken two chunks, so the session really is under way.
  let sent = 0;
  const src = new Readable({
    read() {
      if (sent < 3 * MiB) {
        sent += MiB;
        this.push(randomBytes(MiB));
        return;
      }
      const poll = setInterval(() => {
        if (fake.chunks.length < 2) return;
        clearInterval(poll);
        this.destroy(new Error('injected failure in the source stream'));
      }, 10);
    },
  });
  await assert.rejects(s.put('daily/postgres/app/2/dump.pgc.zst', src), /injected failure in the source stream/);
  assert.equal(fake.chunks.length, 2);
  assert.ok(fake.chunks.every((c) => c.range.endsWith('/*')), 'no chunk claimed to be the last');
  assert.equal(fake.objects.has('bkt/prod/daily/postgres/app/2/dump.pgc.zst'), false);
});

test('an abort in the middle leaves no object', async () => {
  const ac = new AbortController();
  const p = s.put('daily/postgres/app/3/dump.pgc.zst', randomSource(8 * MiB).stream, {
    signal: ac.signal,
    onProgress: (b) => b > 3 * MiB && ac.abort(new Error('stopped by the test')),
  });
  await assert.rejects(p, /stopped by the test/);
  assert.equal(fake.objects.has('bkt/prod/daily/postgres/app/3/dump.pgc.zst'), false);
});

test('a 503 and a reset connection on chunks are retried: the chunk is resent and the object is whole', async () => {
  fake.failChunks(1, 503, 1);
  const total = 4 * MiB + 1;
  const src = randomSource(total);
  const done = s.put('daily/postgres/app/4/dump.pgc.zst', src.stream);
  // The second fault is armed once the first has been met.
  while (!fake.chunks.some((c) => c.injected)) await new Promise((r) => setTimeout(r, 20));
  fake.failChunks(1, 'reset', 1);
  await done;
  assert.equal(sha256(fake.objects.get('bkt/prod/daily/postgres/app/4/dump.pgc.zst')), src.sha256());
  const injected = fake.chunks.filter((c) => c.injected);
  assert.deepEqual(injected.map((c) => c.injected), ['503', 'reset']);
  // Each failed chunk was sent again with the same range.
  for (const c of injected) assert.equal(fake.chunks.filter((x) => x.range === c.range && !x.injected).length, 1, c.range);
});

test('a 403 on a chunk fails without retries, naming the object', async () => {
  fake.failChunks(100, 403, 1);
  await assert.rejects(s.put('daily/postgres/app/5/dump.pgc.zst', randomSource(3 * MiB).stream), (e: unknown) => {
    assert.ok(e instanceof LifeboatError, String(e));
    assert.equal(e.code, 'storage_access_denied');
    assert.match(e.message, /GCS denied upload of gs:\/\/bkt\/prod\/daily\/postgres\/app\/5\/dump\.pgc\.zst \(HTTP 403\)/);
    return true;
  });
  assert.equal(fake.chunks.filter((c) => c.injected).length, 1, 'not retried');
  assert.equal(fake.objects.has('bkt/prod/daily/postgres/app/5/dump.pgc.zst'), false);
  fake.failChunks(0, 403);
});

test('chunk size: 8 MiB against GCS, one request for an emulator unless set, bad values are usage errors', () => {
  assert.equal(chunkSize({}), CHUNK_SIZE);
  assert.equal(CHUNK_SIZE, 8 * MiB, 'bounded memory (see the measurement in gcs.ts)');
  assert.equal(CHUNK_SIZE % (256 * 1024), 0, 'GCS requires multiples of 256 KiB');
  assert.equal(chunkSize({ STORAGE_EMULATOR_HOST: 'http://x' }), undefined);
  assert.equal(chunkSize({ STORAGE_EMULATOR_HOST: 'http://x', LIFEBOAT_GCS_CHUNK_SIZE_MIB: '2' }), 2 * MiB);
  for (const bad of ['0', '1025', '0.5', 'big']) {
    assert.throws(() => chunkSize({ LIFEBOAT_GCS_CHUNK_SIZE_MIB: bad }), (e: unknown) => e instanceof LifeboatError && e.exitCode === 2 && e.message.includes(`LIFEBOAT_GCS_CHUNK_SIZE_MIB expected a whole number of MiB from 1 to 1024, got "${bad}"`));
  }
});

test('uploads have a retry budget for the whole upload: hours long, many transient failures', () => {
  // The SDK counts a resumable upload's retries and total time from its start, across all chunks.
  const up = gcsRetryOptions('uploads');
  assert.ok((up.totalTimeout ?? 0) >= 12 * 3600, `totalTimeout ${up.totalTimeout} s`);
  assert.ok((up.maxRetries ?? 0) >= 10);
  const req = gcsRetryOptions('requests');
  assert.equal(req.maxRetries, 5);
  assert.equal(up.idempotencyStrategy, req.idempotencyStrategy);
});
