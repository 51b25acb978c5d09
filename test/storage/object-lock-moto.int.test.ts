/**
 * Per-object locks against moto_server, which implements S3 Object Lock on buckets created with it: every object
 * of a backup is uploaded with its class's retain-until (the payload, the globals and the manifest), HeadObject
 * says so, and S3 refuses to delete a locked version before its
 * date. Through the real CLI, a yearly and a daily backup of one database get their own retention.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
} from '@aws-sdk/client-s3';
import { ManifestSchema } from '../../runner/contract/manifest';
import { LifeboatError } from '../../runner/errors';
import { openStorage } from '../../runner/storage/open';
import type { ObjectRetention, Storage } from '../../runner/storage/types';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { startRedis, type RedisServer } from '../harness/redis';
import { startMoto, type S3Emulator } from '../harness/s3';
import { runCliProcess } from '../runner/cli-harness';

const LOCKED = 'lifeboat-locked';
const PLAIN = 'lifeboat-unlocked';
const DAY = 86_400_000;
let emu: S3Emulator;
let pg: PgCluster;
let redis: RedisServer;

before(async () => {
  [emu, pg, redis] = await Promise.all([startMoto(), startPostgres(), startRedis()]);
  Object.assign(process.env, emu.env);
  await emu.client.send(new CreateBucketCommand({ Bucket: LOCKED, ObjectLockEnabledForBucket: true }));
  await emu.createBucket(PLAIN);
  await pg.createDatabase('shop');
  await pg.query('CREATE TABLE orders (id int PRIMARY KEY, total numeric); INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 500) g;', 'shop');
  const c = await redis.client();
  await c.set('greeting', 'hello');
  c.disconnect();
});
after(async () => {
  await Promise.all([pg?.stop(), redis?.stop(), emu?.stop()]);
});

function open(bucket: string, env: NodeJS.ProcessEnv = {}): Promise<Storage> {
  return openStorage(`s3://${bucket}/prod`, { s3Endpoint: emu.endpoint, env: { ...process.env, ...env } });
}

/**
 * The object's Object Lock retention, as HeadObject reports it (x-amz-object-lock-mode and -retain-until-date).
 * HeadObject rather than GetObjectRetention: moto 5.2.1 implements PutObjectRetention but answers GET ?retention
 * with the object's body.
 */
async function retentionOf(bucket: string, key: string): Promise<{ mode?: string; until?: Date }> {
  const r = await emu.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  return { mode: r.ObjectLockMode, until: r.ObjectLockRetainUntilDate };
}

function sameSecond(a: Date | undefined, b: Date): void {
  assert.ok(a, 'no retain-until date');
  assert.equal(Math.floor(a.getTime() / 1000), Math.floor(b.getTime() / 1000), `${a.toISOString()} is not ${b.toISOString()}`);
}

test('put and putBytes upload each object with its retain-until and mode', async () => {
  // One request per object: moto 5.2.1 drops the lock headers of CreateMultipartUpload (its
  // create_multipart_upload takes no lock arguments), so the multipart request is checked in s3-multipart.test.ts.
  const s = await open(LOCKED);
  const until = new Date(Date.now() + 400 * DAY);
  const gov: ObjectRetention = { mode: 'governance', retainUntil: until };
  await s.put('monthly/postgres/app/20261201T000000Z-aaaa/dump.pgc.zst', Readable.from([randomBytes(100_000)]), { retention: gov });
  await s.put('monthly/postgres/app/20261201T000000Z-aaaa/small.bin', Readable.from([randomBytes(1000)]), { retention: { mode: 'compliance', retainUntil: until } });
  await s.putBytes('monthly/postgres/app/20261201T000000Z-aaaa/manifest.json', '{}', { retention: gov });
  await s.putBytes('drills/postgres/app/report.json', '{}');

  const payload = await retentionOf(LOCKED, 'prod/monthly/postgres/app/20261201T000000Z-aaaa/dump.pgc.zst');
  assert.equal(payload.mode, 'GOVERNANCE');
  sameSecond(payload.until, until);
  const small = await retentionOf(LOCKED, 'prod/monthly/postgres/app/20261201T000000Z-aaaa/small.bin');
  assert.equal(small.mode, 'COMPLIANCE');
  sameSecond(small.until, until);
  const manifest = await retentionOf(LOCKED, 'prod/monthly/postgres/app/20261201T000000Z-aaaa/manifest.json');
  assert.equal(manifest.mode, 'GOVERNANCE');
  sameSecond(manifest.until, until);
  assert.deepEqual(await retentionOf(LOCKED, 'prod/drills/postgres/app/report.json'), { mode: undefined, until: undefined }, 'an object written without a lock has none of its own');
});

test('a locked multipart upload (checksums on every part, as S3 requires for locks) completes whole', async () => {
  // moto keeps no lock from CreateMultipartUpload (above), but it checks the parts' CRC32s and assembles them.
  const s = await open(LOCKED, { LIFEBOAT_S3_PART_SIZE_MIB: '5' });
  const data = randomBytes(11 * 1024 * 1024);
  const key = 'yearly/postgres/app/20260101T000000Z-dddd/dump.pgc.zst';
  const r = await s.put(key, Readable.from([data]), { retention: { mode: 'compliance', retainUntil: new Date(Date.now() + 2557 * DAY) } });
  assert.equal(r.bytes, data.length);
  const head = await emu.client.send(new HeadObjectCommand({ Bucket: LOCKED, Key: `prod/${key}` }));
  assert.match(head.ETag ?? '', /-3"?$/, 'three parts of 5 MiB at most');
  assert.ok((await s.getBytes(key)).equals(data));
});

test('S3 refuses to delete a locked version before its date; a plain delete only hides it behind a delete marker', async () => {
  const s = await open(LOCKED);
  const key = 'yearly/postgres/app/20260101T000000Z-bbbb/manifest.json';
  await s.putBytes(key, '{}', { retention: { mode: 'governance', retainUntil: new Date(Date.now() + 2557 * DAY) } });
  const versions = await emu.client.send(new ListObjectVersionsCommand({ Bucket: LOCKED, Prefix: `prod/${key}` }));
  const versionId = versions.Versions?.[0]?.VersionId;
  assert.ok(versionId);
  await assert.rejects(emu.client.send(new DeleteObjectCommand({ Bucket: LOCKED, Key: `prod/${key}`, VersionId: versionId })), /AccessDenied|locked|retention/i);
  await s.delete(key);
  const after = await emu.client.send(new ListObjectVersionsCommand({ Bucket: LOCKED, Prefix: `prod/${key}` }));
  assert.deepEqual(after.Versions?.map((v) => v.VersionId), [versionId], 'the locked version is still there');
  assert.equal(after.DeleteMarkers?.length, 1);
});

test('a lock asked of a bucket without Object Lock is refused as a configuration error naming the bucket', async () => {
  const s = await open(PLAIN);
  await assert.rejects(
    s.putBytes('daily/postgres/app/20261201T000000Z-cccc/manifest.json', '{}', { retention: { mode: 'governance', retainUntil: new Date(Date.now() + DAY) } }),
    (e: unknown) => {
      assert.ok(e instanceof LifeboatError, String(e));
      assert.equal(e.exitCode, 2, e.message);
      assert.match(e.message + (e.hint ?? ''), new RegExp(PLAIN));
      return true;
    },
  );
});

const lockEnv = (): NodeJS.ProcessEnv => ({
  ...emu.env,
  LIFEBOAT_S3_ENDPOINT: emu.endpoint,
  LIFEBOAT_OBJECT_LOCK: 'governance',
  LIFEBOAT_RETENTION_DAYS: 'daily=7,weekly=35,monthly=400,yearly=2557,manual=90',
});

test('lifeboat backup locks the payload, the globals and the manifest for the class of the backup', async () => {
  for (const [cls, days] of [['yearly', 2557], ['daily', 7]] as const) {
    const r = await runCliProcess(['backup', '--storage', `s3://${LOCKED}/cli`, '--database-url', pg.url('shop'), '--class', cls, '--json'], lockEnv());
    assert.equal(r.code, 0, r.stderr);
    const m = ManifestSchema.parse(JSON.parse(r.stdout));
    const until = new Date(Date.parse(m.startedAt) + days * DAY);
    assert.deepEqual(m.lock, { mode: 'governance', retainUntil: until.toISOString() });
    const folder = `cli/${cls}/postgres/shop/${m.id}/`;
    const objects = [m.payload.object, m.globals!.object, 'manifest.json'];
    for (const o of objects) {
      const got = await retentionOf(LOCKED, folder + o);
      assert.equal(got.mode, 'GOVERNANCE', `${cls} ${o}`);
      sameSecond(got.until, until);
    }
  }
});

test('lifeboat redis backup locks its payload and manifest too', async () => {
  const r = await runCliProcess(['redis', 'backup', '--storage', `s3://${LOCKED}/cli`, '--class', 'monthly', '--source', 'cache', '--json'], { ...lockEnv(), LIFEBOAT_REDIS_URL: redis.url });
  assert.equal(r.code, 0, r.stderr);
  const m = ManifestSchema.parse(JSON.parse(r.stdout));
  const until = new Date(Date.parse(m.startedAt) + 400 * DAY);
  assert.equal(m.lock?.retainUntil, until.toISOString());
  for (const o of [m.payload.object, 'manifest.json']) {
    const got = await retentionOf(LOCKED, `cli/monthly/redis/cache/${m.id}/${o}`);
    assert.equal(got.mode, 'GOVERNANCE');
    sameSecond(got.until, until);
  }
});
