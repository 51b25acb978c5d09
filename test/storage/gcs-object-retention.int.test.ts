/**
 * GCS object retention at upload. No GCS emulator that installs here implements object retention (the Firebase
 * Storage emulator drops the `retention` field), so the requests the client sends are checked against the
 * resumable-protocol double (gcs-resumable-server.ts): the session of a streamed payload and the single request
 * of a small object both carry `retention: { mode, retainUntilTime }`, and a delete refused for retention is told
 * apart (code object_locked) from one refused for want of rights.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { LifeboatError } from '../../runner/errors';
import { openStorage } from '../../runner/storage/open';
import { OBJECT_LOCKED, type Storage } from '../../runner/storage/types';
import { startFakeGcs, type FakeGcs } from './gcs-resumable-server';

const DAY = 86_400_000;
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

const metadataOf = (name: string): Record<string, unknown> | undefined => [...fake.uploads].reverse().find((u) => u.name === name)?.metadata;

test('a streamed payload starts its resumable session with the retention: governance is Unlocked', async () => {
  const until = new Date(Date.now() + 2557 * DAY);
  await s.put('yearly/postgres/app/20260101T000000Z-aaaa/dump.pgc.zst', Readable.from([randomBytes(1536 * 1024)]), {
    retention: { mode: 'governance', retainUntil: until },
  });
  assert.deepEqual(metadataOf('prod/yearly/postgres/app/20260101T000000Z-aaaa/dump.pgc.zst')?.retention, {
    mode: 'Unlocked',
    retainUntilTime: until.toISOString(),
  });
  assert.ok(fake.objects.has('bkt/prod/yearly/postgres/app/20260101T000000Z-aaaa/dump.pgc.zst'));
});

test('a small object (manifest, globals) carries it in its one request: compliance is Locked', async () => {
  const until = new Date(Date.now() + 400 * DAY);
  await s.putBytes('monthly/postgres/app/20261201T000000Z-bbbb/manifest.json', '{"a":1}', { contentType: 'application/json', retention: { mode: 'compliance', retainUntil: until } });
  const meta = metadataOf('prod/monthly/postgres/app/20261201T000000Z-bbbb/manifest.json');
  assert.deepEqual(meta?.retention, { mode: 'Locked', retainUntilTime: until.toISOString() });
  assert.equal(meta?.contentType, 'application/json');
  assert.equal(fake.objects.get('bkt/prod/monthly/postgres/app/20261201T000000Z-bbbb/manifest.json')?.toString(), '{"a":1}');
});

test('without a lock, no retention is sent', async () => {
  await s.putBytes('drills/postgres/app/report.json', '{}');
  await s.put('manual/postgres/app/20261201T000000Z-cccc/dump.pgc.zst', Readable.from([randomBytes(1000)]));
  assert.equal(metadataOf('prod/drills/postgres/app/report.json')?.retention, undefined);
  assert.equal(metadataOf('prod/manual/postgres/app/20261201T000000Z-cccc/dump.pgc.zst')?.retention, undefined);
});

test('deleting an object before its retain-until fails with code object_locked; an unlocked one goes', async () => {
  await assert.rejects(s.delete('monthly/postgres/app/20261201T000000Z-bbbb/manifest.json'), (e: unknown) => {
    assert.ok(e instanceof LifeboatError, String(e));
    assert.equal(e.code, OBJECT_LOCKED);
    assert.match(e.message, /retention/);
    return true;
  });
  await s.delete('drills/postgres/app/report.json');
  assert.ok(!fake.objects.has('bkt/prod/drills/postgres/app/report.json'));
});
