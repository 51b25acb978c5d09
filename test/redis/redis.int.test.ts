/**
 * `lifeboat redis backup|restore|verify` against real redis-server processes (test/harness/redis.ts): both
 * methods, every value type, binary keys, several logical databases, expiry kept, refusal of a non-empty
 * target, and verify catching a manifest that does not match the snapshot.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type Redis from 'ioredis';
import { main } from '../../runner/cli/main';
import { listBackups } from '../../runner/catalog/catalog';
import { parseManifest, serializeManifest } from '../../runner/contract/manifest';
import type { LocalStorage } from '../../runner/storage/local';
import { startRedis, type RedisServer } from '../harness/redis';
import { capturedContext, tempStorage } from '../retention/store';

let source: RedisServer;
let target: RedisServer;
let storage: LocalStorage;
let cleanup: () => Promise<void>;
const BINARY_KEY = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x41]);

before(async () => {
  [source, target] = await Promise.all([startRedis(), startRedis()]);
  ({ storage, cleanup } = await tempStorage());
  const s = await source.client();
  const p = s.pipeline();
  for (let i = 0; i < 150; i++) p.set(`str:${i}`, `value-${i}-${'x'.repeat(i)}`);
  p.hset('hash:1', { a: '1', b: '2', c: 'three' });
  p.rpush('list:1', 'a', 'b', 'c', 'd');
  p.sadd('set:1', 'x', 'y', 'z');
  p.zadd('zset:1', 1, 'one', 2, 'two', 3.5, 'three');
  p.xadd('stream:1', '*', 'field', 'value');
  p.set(BINARY_KEY, Buffer.from([1, 2, 3, 0, 255]));
  for (let i = 0; i < 20; i++) p.set(`session:${i}`, `s${i}`, 'EX', 3600 + i);
  await p.exec();
  const db3 = await source.client(3);
  await db3.mset('other:a', '1', 'other:b', '2', 'other:c', '3');
});

after(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
  await cleanup?.();
});

const EXPECTED_KEYS = { '0': 150 + 5 + 1 + 20, '3': 3 };

async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string; event: Record<string, unknown> }> {
  const c = capturedContext(() => new Date(), env);
  const code = await main(args, c.ctx);
  return { code, out: c.stdout(), err: c.stderr(), event: c.events().at(-1)! };
}

/** A key's value in a comparable form, whatever its type (DUMP bytes differ with set iteration order). */
async function valueOf(c: Redis, k: Buffer): Promise<unknown> {
  const type = await c.type(k);
  switch (type) {
    case 'string': return c.getBuffer(k);
    case 'hash': return Object.entries(await c.hgetall(k)).sort();
    case 'list': return c.lrange(k, 0, -1);
    case 'set': return (await c.smembers(k)).sort();
    case 'zset': return c.zrange(k, 0, -1, 'WITHSCORES');
    case 'stream': return c.xrange(k, '-', '+');
    default: throw new Error(`unexpected type ${type}`);
  }
}

/** Every key in `a` is in `b` with the same type, value and an expiry within a second; nothing else in `b`. */
async function assertSameData(a: Redis, b: Redis): Promise<void> {
  const keys = await a.keysBuffer('*');
  assert.equal(await b.dbsize(), keys.length);
  for (const k of keys) {
    assert.equal(await b.type(k), await a.type(k), `type of ${k.toString('latin1')}`);
    assert.deepEqual(await valueOf(b, k), await valueOf(a, k), `value of ${k.toString('latin1')}`);
    const [ea, eb] = [Number(await a.call('PEXPIRETIME', k)), Number(await b.call('PEXPIRETIME', k))];
    if (ea < 0) assert.equal(eb, ea, `no expiry on ${k.toString()}`);
    else assert.ok(Math.abs(ea - eb) < 1000, `expiry of ${k.toString()}: ${ea} vs ${eb}`);
  }
}

let rdbId = '';
let dumpId = '';

test('redis backup (rdb, the default) stores a compressed snapshot with key counts per database, manifest last', async () => {
  const r = await run(['redis', 'backup', '--redis-url', source.url, '--source', 'cache', '--storage', storage.root]);
  assert.equal(r.code, 0, r.err);
  rdbId = r.out.trim();
  const [b] = await listBackups(storage, { engine: 'redis', source: 'cache' });
  assert.equal(b!.id, rdbId);
  assert.equal(b!.cls, 'yearly');
  assert.equal(b!.manifest.payload.object, 'dump.rdb.zst');
  assert.deepEqual(b!.manifest.redisKeys, EXPECTED_KEYS);
  assert.deepEqual(b!.manifest.redisExpiringKeys, { '0': 20, '3': 0 });
  assert.equal(b!.manifest.tools.method, 'rdb');
  assert.match(b!.manifest.server.version, /^\d+\.\d+\.\d+$/);
  const stored = await fs.readFile(path.join(storage.root, b!.payloadKey));
  assert.deepEqual([...stored.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], 'zstd frame magic');
  assert.equal(b!.manifest.payload.storedBytes, stored.length);
  assert.equal(r.event.event, 'redis.backup.succeeded');
  assert.equal(r.event.source, 'cache');
  assert.equal(r.event.class, 'yearly');
  assert.equal(r.event.backupId, rdbId);
  assert.equal(r.event.bytes, stored.length);
  assert.equal(r.event.keys, 179);
  assert.equal(typeof r.event.durationSeconds, 'number');
});

test('redis verify loads the RDB into a scratch redis-server and matches the manifest', async () => {
  const r = await run(['redis', 'verify', rdbId, '--storage', storage.root]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /db0: 176 keys loaded, manifest 176\s+ok/);
  assert.match(r.out, /db3: 3 keys loaded, manifest 3\s+ok/);
  assert.equal(r.event.event, 'redis.verify.succeeded');
  assert.equal(r.event.passed, true);
});

test('redis restore of an RDB snapshot into an empty Redis restores every key, type and expiry', async () => {
  const r = await run(['redis', 'restore', rdbId, '--redis-url', target.url, '--storage', storage.root]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.equal(r.event.event, 'redis.restore.succeeded');
  assert.equal(r.event.keys, 179);
  await assertSameData(await source.client(0), await target.client(0));
  await assertSameData(await source.client(3), await target.client(3));
  assert.deepEqual(await (await target.client()).getBuffer(BINARY_KEY), Buffer.from([1, 2, 3, 0, 255]));
});

test('redis restore refuses a non-empty target without --flush --yes and changes nothing', async () => {
  const t = await target.client();
  await t.set('str:0', 'changed-on-target');
  const plain = await run(['redis', 'restore', 'latest', '--redis-url', target.url, '--storage', storage.root]);
  assert.equal(plain.code, 2);
  assert.match(plain.err, /target redis:\/\/127\.0\.0\.1:\d+ is not empty \(db0: 176 keys, db3: 3 keys\); refusing to restore over it/);
  assert.equal(plain.event.event, 'redis.restore.failed');
  const noYes = await run(['redis', 'restore', 'latest', '--flush', '--redis-url', target.url, '--storage', storage.root]);
  assert.equal(noYes.code, 2);
  assert.match(noYes.err, /--flush deletes every key of the target Redis: add --yes/);
  assert.equal(await t.get('str:0'), 'changed-on-target');
});

test('redis backup --method dump (SCAN + DUMP) round-trips through verify and restore --flush --yes', async () => {
  // A key only on the target must be gone after --flush.
  await (await target.client(5)).set('only-on-target', '1');
  const b = await run(['redis', 'backup', '--method', 'dump', '--redis-url', source.url, '--source', 'cache', '--storage', storage.root]);
  assert.equal(b.code, 0, b.err);
  dumpId = b.out.trim();
  const backup = (await listBackups(storage, { engine: 'redis' })).find((x) => x.id === dumpId)!;
  assert.equal(backup.manifest.payload.object, 'keys.lbrk.zst');
  assert.equal(backup.cls, 'daily');
  assert.deepEqual(backup.manifest.redisKeys, EXPECTED_KEYS);

  const v = await run(['redis', 'verify', dumpId, '--storage', storage.root]);
  assert.equal(v.code, 0, v.err + v.out);

  const r = await run(['redis', 'restore', dumpId, '--flush', '--yes', '--redis-url', target.url, '--storage', storage.root]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.equal(r.event.flushed, true);
  await assertSameData(await source.client(0), await target.client(0));
  await assertSameData(await source.client(3), await target.client(3));
  assert.equal(await (await target.client(5)).dbsize(), 0);
});

test('redis verify fails (exit 1, redis.verify.failed) when the snapshot does not hold what the manifest says', async () => {
  const [b] = (await listBackups(storage, { engine: 'redis' })).filter((x) => x.id === rdbId);
  const m = parseManifest((await storage.getBytes(b!.manifestKey)).toString(), 'test');
  await storage.putBytes(b!.manifestKey, serializeManifest({ ...m, redisKeys: { '0': 176, '3': 4 } }));
  try {
    const r = await run(['redis', 'verify', rdbId, '--storage', storage.root]);
    assert.equal(r.code, 1);
    assert.match(r.out, /db3: 3 keys loaded, manifest 4\s+MISMATCH/);
    assert.equal(r.event.event, 'redis.verify.failed');
    assert.match(String(r.event.message), /db3 loaded 3, manifest 4/);
  } finally {
    await storage.putBytes(b!.manifestKey, serializeManifest(m));
  }
});

test('a corrupted payload is refused by its checksum before anything is written to the target', async () => {
  const [b] = (await listBackups(storage, { engine: 'redis' })).filter((x) => x.id === dumpId);
  const file = path.join(storage.root, b!.payloadKey);
  const good = await fs.readFile(file);
  const bad = Buffer.from(good);
  bad[Math.floor(bad.length / 2)]! ^= 0xff;
  await fs.writeFile(file, bad);
  const t = await target.client();
  await t.flushall();
  try {
    const r = await run(['redis', 'restore', dumpId, '--redis-url', target.url, '--storage', storage.root]);
    assert.equal(r.code, 1);
    assert.match(r.err, /checksum mismatch/);
    assert.equal(r.event.event, 'redis.restore.failed');
    // The failed event names the backup that failed, resolved from the id before anything could go wrong.
    assert.equal(r.event.backupId, dumpId);
    assert.equal(r.event.class, 'daily');
    assert.equal(r.event.source, 'cache');
    const v = await run(['redis', 'verify', 'latest', '--source', 'cache', '--storage', storage.root]);
    assert.equal(v.code, 1);
    assert.equal(v.event.event, 'redis.verify.failed');
    assert.equal(v.event.backupId, dumpId);
    assert.equal(await t.dbsize(), 0);
  } finally {
    await fs.writeFile(file, good);
  }
});

test('an unreachable Redis fails the backup with exit 1 and publishes nothing', async () => {
  const before = (await listBackups(storage)).length;
  const r = await run(['redis', 'backup', '--redis-url', 'redis://:secret-pw@127.0.0.1:1', '--source', 'cache', '--storage', storage.root]);
  assert.equal(r.code, 1);
  assert.equal(r.event.event, 'redis.backup.failed');
  assert.match(r.err, /cannot connect to Redis at redis:\/\/127\.0\.0\.1:1/);
  assert.equal((await listBackups(storage)).length, before);
});

test('a bad LIFEBOAT_ZSTD_LEVEL is refused (exit 2) before Redis is contacted, naming the key and what it got', async () => {
  const r = await run(['redis', 'backup', '--redis-url', 'redis://127.0.0.1:1', '--source', 'cache', '--storage', storage.root], { PATH: process.env.PATH, LIFEBOAT_ZSTD_LEVEL: '22' });
  assert.equal(r.code, 2, r.err);
  assert.equal(r.event.errorCode, 'zstd_level_invalid');
  assert.match(r.err, /LIFEBOAT_ZSTD_LEVEL expected a whole number from 1 to 19, got "22"/);
});

test('a wrong password is a usage error (exit 2) that does not echo it', async () => {
  const url = source.url.replace(encodeURIComponent(source.password), 'not-the-password');
  const r = await run(['redis', 'backup', '--redis-url', url, '--source', 'cache', '--storage', storage.root]);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /refused the credentials/);
  assert.doesNotMatch(r.err + JSON.stringify(r.event), /not-the-password/);
});

test('an encrypted backup (--encrypt-to) verifies and restores only with the identity file', async () => {
  const age = await import('age-encryption');
  const identity = await age.generateX25519Identity();
  const recipient = await age.identityToRecipient(identity);
  const idFile = path.join(storage.root, '..', `identity-${process.pid}.txt`);
  await fs.writeFile(idFile, identity + '\n', { mode: 0o600 });
  try {
    const b = await run(['redis', 'backup', '--method', 'dump', '--encrypt-to', recipient, '--redis-url', source.url, '--source', 'cache-enc', '--storage', storage.root]);
    assert.equal(b.code, 0, b.err);
    const [backup] = await listBackups(storage, { engine: 'redis', source: 'cache-enc' });
    assert.equal(backup!.manifest.payload.object, 'keys.lbrk.zst.age');
    assert.equal(backup!.manifest.payload.encryption?.recipients.length, 1);
    const stored = await fs.readFile(path.join(storage.root, backup!.payloadKey));
    assert.match(stored.subarray(0, 40).toString('latin1'), /^age-encryption\.org\/v1/);

    const noId = await run(['redis', 'verify', 'latest', '--source', 'cache-enc', '--storage', storage.root]);
    assert.equal(noId.code, 1);
    assert.match(noId.err, /encrypted with age; --identity-file/);
    const v = await run(['redis', 'verify', 'latest', '--source', 'cache-enc', '--identity-file', idFile, '--storage', storage.root]);
    assert.equal(v.code, 0, v.err + v.out);
    const r = await run(['redis', 'restore', 'latest', '--source', 'cache-enc', '--identity-file', idFile, '--flush', '--yes', '--redis-url', target.url, '--storage', storage.root]);
    assert.equal(r.code, 0, r.err + r.out);
    await assertSameData(await source.client(0), await target.client(0));
  } finally {
    await fs.rm(idFile, { force: true });
  }
});

test('a Redis that refuses replication (as managed services do) fails the rdb backup loudly, pointing at --method dump', async () => {
  const managed = await startRedis({ settings: { 'rename-command': ['SYNC', '""'] } });
  try {
    const r = await run(['redis', 'backup', '--redis-url', managed.url, '--source', 'managed', '--storage', storage.root]);
    assert.equal(r.code, 1, r.err);
    assert.equal(r.event.event, 'redis.backup.failed');
    assert.match(r.err, /taking an RDB snapshot of redis:\/\/127\.0\.0\.1:\d+ failed: .*use --method dump/);
    assert.equal(r.event.class, 'yearly', 'the failed event names the class and id the backup would have had');
    assert.match(String(r.event.backupId), /^\d{8}T\d{6}Z-[0-9a-f]{4}$/);
    assert.deepEqual(await listBackups(storage, { source: 'managed' }), []);
    const d = await run(['redis', 'backup', '--method', 'dump', '--redis-url', managed.url, '--source', 'managed', '--storage', storage.root]);
    assert.equal(d.code, 0, d.err);
  } finally {
    await managed.stop();
  }
});

test('a Redis with more than 16 databases: the rdb snapshot loads, verifies and restores keys of database 20', async () => {
  const [wide, wideTarget] = await Promise.all([startRedis({ settings: { databases: '32' } }), startRedis({ settings: { databases: '32' } })]);
  try {
    await (await wide.client(0)).set('low', '0');
    await (await wide.client(20)).mset('high:a', '1', 'high:b', '2');
    const b = await run(['redis', 'backup', '--redis-url', wide.url, '--source', 'wide', '--storage', storage.root]);
    assert.equal(b.code, 0, b.err);
    const [backup] = await listBackups(storage, { engine: 'redis', source: 'wide' });
    assert.deepEqual(backup!.manifest.redisKeys, { '0': 1, '20': 2 });
    const v = await run(['redis', 'verify', 'latest', '--source', 'wide', '--storage', storage.root]);
    assert.equal(v.code, 0, v.err + v.out);
    assert.match(v.out, /db20: 2 keys loaded, manifest 2\s+ok/);
    const r = await run(['redis', 'restore', 'latest', '--source', 'wide', '--redis-url', wideTarget.url, '--storage', storage.root]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.deepEqual((await (await wideTarget.client(20)).keys('*')).sort(), ['high:a', 'high:b']);
  } finally {
    await Promise.all([wide.stop(), wideTarget.stop()]);
  }
});
