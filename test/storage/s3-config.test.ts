import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:buffer';
import { DEFAULT_PART_SIZE, QUEUE_SIZE, partSize, queueSize, s3ClientConfig } from '../../runner/storage/s3';
import { MAX_PARTS } from '../../runner/storage/s3-multipart';
import { bucketLocation, objectName, relativeKey } from '../../runner/storage/keys';
import { LifeboatError } from '../../runner/errors';

test('an S3-compatible endpoint gets path-style addressing and checksums only when required', () => {
  const c = s3ClientConfig({ s3Endpoint: 'https://minio.example:9000', env: {} });
  assert.equal(c.endpoint, 'https://minio.example:9000');
  assert.equal(c.forcePathStyle, true);
  assert.equal(c.requestChecksumCalculation, 'WHEN_REQUIRED');
  assert.equal(c.responseChecksumValidation, 'WHEN_REQUIRED');
});

test('plain AWS keeps the SDK defaults for addressing and checksums; region from flag, then environment', () => {
  const c = s3ClientConfig({ env: { AWS_REGION: 'eu-west-3' } });
  assert.equal(c.endpoint, undefined);
  assert.equal(c.forcePathStyle, undefined);
  assert.equal(c.requestChecksumCalculation, undefined);
  assert.equal(c.region, 'eu-west-3');
  assert.equal(s3ClientConfig({ s3Region: 'ap-south-1', env: { AWS_REGION: 'eu-west-3' } }).region, 'ap-south-1');
  assert.equal(s3ClientConfig({ env: {} }).region, 'us-east-1');
  assert.equal(c.retryMode, 'standard');
  assert.ok((c.maxAttempts as number) >= 3);
  assert.equal(c.credentials, undefined, 'credentials come from the default chain only');
});

test('bad endpoints are usage errors and never echo credentials', () => {
  for (const bad of ['minio:9000', 'ftp://x', 'https://AKIAXXX:s3cr3t@minio.example']) {
    assert.throws(
      () => s3ClientConfig({ s3Endpoint: bad, env: {} }),
      (e: unknown) => e instanceof LifeboatError && e.exitCode === 2 && /--s3-endpoint/.test(e.message) && !e.message.includes('s3cr3t'),
    );
  }
});

test('part size: a 50 GB stream fits the 10,000-part limit with bounded buffers', () => {
  assert.equal(partSize({}), DEFAULT_PART_SIZE);
  assert.ok(DEFAULT_PART_SIZE * MAX_PARTS >= 1.2 * 50e9, 'a 50 GB dump fits with a fifth to spare');
  assert.ok((QUEUE_SIZE + 1) * DEFAULT_PART_SIZE <= 18 * 1024 ** 2, 'the part pool stays within 18 MiB');
  assert.ok(QUEUE_SIZE >= 2, 'parts overlap on the wire');
  assert.equal(partSize({ LIFEBOAT_S3_PART_SIZE_MIB: '64' }), 64 * 1024 ** 2);
  // The largest part must fit one Node Buffer, or the upload would throw a RangeError when it allocates its pool.
  const largest = partSize({ LIFEBOAT_S3_PART_SIZE_MIB: '4096' });
  assert.ok(largest <= constants.MAX_LENGTH, `${largest} > buffer.constants.MAX_LENGTH ${constants.MAX_LENGTH}`);
  for (const bad of ['4', '4097', '5120', '1.5', 'big']) {
    assert.throws(() => partSize({ LIFEBOAT_S3_PART_SIZE_MIB: bad }), /LIFEBOAT_S3_PART_SIZE_MIB expected a whole number of MiB from 5 to 4096/);
  }
});

test('queue size: default, override, and a usage error naming the variable', () => {
  assert.equal(queueSize({}), QUEUE_SIZE);
  assert.equal(queueSize({ LIFEBOAT_S3_QUEUE_SIZE: '4' }), 4);
  for (const bad of ['0', '17', '2.5', 'many']) {
    assert.throws(
      () => queueSize({ LIFEBOAT_S3_QUEUE_SIZE: bad }),
      (e: unknown) => e instanceof LifeboatError && e.exitCode === 2 && e.message.includes(`LIFEBOAT_S3_QUEUE_SIZE expected a whole number from 1 to 16, got "${bad}"`),
    );
  }
});

test('bucket URLs: root prefix, display form, keys relative to the root', () => {
  const l = bucketLocation(new URL('s3://bkt/prod/db/'));
  assert.deepEqual(l, { bucket: 'bkt', root: 'prod/db/', url: 's3://bkt/prod/db' });
  assert.equal(objectName(l, 'daily/x'), 'prod/db/daily/x');
  assert.equal(relativeKey(l, 'prod/db/daily/x'), 'daily/x');
  assert.deepEqual(bucketLocation(new URL('gs://bkt')), { bucket: 'bkt', root: '', url: 'gs://bkt' });
  assert.throws(() => bucketLocation(new URL('s3://key:secret@bkt/x')), (e: Error) => !e.message.includes('secret'));
  assert.throws(() => objectName(l, '../escape'), /not a relative path/);
});
