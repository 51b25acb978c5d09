/** The `dump` method's framed key stream: round trip, and every way a damaged stream is refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRecords, encodeRecords, FormatError, type KeyRecord } from '../../runner/redis/format';
import { compareKeyCounts } from '../../runner/redis/key-counts';

const RECORDS: KeyRecord[] = [
  { type: 'db', db: 0 },
  { type: 'key', key: Buffer.from('plain'), expireAt: -1, value: Buffer.from([0, 1, 2, 3]) },
  { type: 'key', key: Buffer.from([0, 255, 10]), expireAt: 1_790_000_000_123, value: Buffer.alloc(70_000, 9) },
  { type: 'db', db: 15 },
  { type: 'key', key: Buffer.alloc(0), expireAt: -1, value: Buffer.alloc(0) },
];

async function* from<T>(xs: T[]): AsyncGenerator<T> {
  yield* xs;
}

async function encode(records: KeyRecord[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of encodeRecords(from(records))) parts.push(b);
  return Buffer.concat(parts);
}

/** Decodes from chunks of `size` bytes, so records straddle chunk boundaries. */
async function decode(bytes: Buffer, size = 7): Promise<KeyRecord[]> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  const out: KeyRecord[] = [];
  for await (const r of decodeRecords(from(chunks))) out.push(r);
  return out;
}

test('records round-trip byte for byte, across chunk boundaries', async () => {
  const bytes = await encode(RECORDS);
  assert.equal(bytes.subarray(0, 8).toString('latin1'), 'LBRKEYS1');
  assert.deepEqual(await decode(bytes), RECORDS);
  assert.deepEqual(await decode(bytes, 65536), RECORDS);
});

test('a truncated stream, a bad header, a wrong count or trailing bytes are refused', async () => {
  const bytes = await encode(RECORDS);
  await assert.rejects(decode(bytes.subarray(0, bytes.length - 9)), (e) => e instanceof FormatError && /truncated key stream: expected a record or the end marker/.test(e.message));
  await assert.rejects(decode(bytes.subarray(0, 40)), /truncated key stream/);
  const badHeader = Buffer.from(bytes);
  badHeader[0] = 0x58;
  await assert.rejects(decode(badHeader), /bad header/);
  const badCount = Buffer.from(bytes);
  badCount[badCount.length - 1] = 9;
  await assert.rejects(decode(badCount), /says 9 keys, but holds 3/);
  await assert.rejects(decode(Buffer.concat([bytes, Buffer.from('x')])), /data after the end marker/);
  const badTag = Buffer.from(bytes);
  badTag[8] = 0x51;
  await assert.rejects(decode(badTag), /unknown record tag 0x51/);
});

test('key counts: a shortfall is allowed only up to the keys that carried a TTL', () => {
  const checks = compareKeyCounts({ '0': 10, '1': 5, '2': 3 }, { '0': 2, '1': 0 }, { '0': 8, '1': 4, '2': 3, '4': 1 });
  assert.deepEqual(checks.map((c) => [c.db, c.ok, c.expiredSince]), [['0', true, 2], ['1', false, 0], ['2', true, 0], ['4', false, 0]]);
});
