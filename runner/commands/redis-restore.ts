/**
 * `lifeboat redis restore` and `lifeboat redis verify`.
 *
 * Both first fetch the payload whole into a temp folder through runner/payload/fetch.ts (sha256 of the stored
 * bytes checked against the manifest, then decrypt and decompress), so nothing is written anywhere from a
 * payload that is not proven intact.
 *
 * Restore copies key by key with RESTORE ... REPLACE ABSTTL (expiry preserved as the original instant). An RDB
 * snapshot cannot be fed to a running server (that needs a restart with the file in its data dir, which a managed
 * Redis does not allow), so it is loaded into a scratch redis-server on a free local port and copied from there
 * with SCAN + DUMP + PTTL, the same path as the `dump` method. A non-empty target is refused unless the caller
 * passed --flush --yes (then FLUSHALL, only after the payload was proven intact).
 *
 * Verify loads the snapshot into a scratch redis-server (an RDB directly, a key stream through RESTORE) and
 * compares the key count of every logical database with the manifest. Keys with a TTL may have expired since
 * the backup; a shortfall within the manifest's count of expiring keys passes and is reported.
 */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type Redis from 'ioredis';
import type { RunContext } from '../context';
import { resolveBackup, type CompleteBackup } from '../catalog/catalog';
import { fetchArchive, type FetchedArchive } from '../payload/fetch';
import { runtimeError, usageError } from '../errors';
import type { Spawner } from '../pipeline/spawn';
import type { Storage } from '../storage/types';
import { connectRedis, describeRedis, keyspace, type RedisConnInfo } from '../redis/connection';
import { decodeRecords, FormatError, type KeyRecord } from '../redis/format';
import { readKeys, writeKeys, type ReadStats, type WriteStats } from '../redis/keys';
import { methodOfPayload } from '../redis/payload';
import { findRedisServer, startScratchRedis, type ScratchRedis } from '../redis/scratch';

export interface RedisDeps {
  ctx: Pick<RunContext, 'env' | 'logger' | 'now' | 'signal' | 'stderr'>;
  spawner?: Spawner;
}

export interface PickBackup {
  storage: Storage;
  /** A backup id or `latest`. */
  ref: string;
  source?: string;
  identityText?: string;
  /** Called once the backup is known, before anything can fail on it: the final event then names it. */
  onResolved?: (backup: CompleteBackup) => void;
}

export async function resolveRedisBackup(p: PickBackup): Promise<CompleteBackup> {
  const backup = await resolveBackup(p.storage, p.ref, { engine: 'redis', source: p.source });
  p.onResolved?.(backup);
  return backup;
}

function databasesNeeded(backup: CompleteBackup): number {
  const dbs = Object.keys(backup.manifest.redisKeys ?? {}).map(Number);
  return Math.max(16, ...dbs.map((d) => d + 1));
}

async function fetchPayload(backup: CompleteBackup, p: PickBackup, label: string, deps: RedisDeps): Promise<FetchedArchive> {
  return fetchArchive(backup, p.storage, { identityText: p.identityText, label }, { ctx: deps.ctx, spawner: deps.spawner });
}

/** The snapshot's keys as records: decoded from a key stream, or read out of a scratch server holding the RDB. */
async function snapshotRecords(
  backup: CompleteBackup,
  file: string,
  deps: RedisDeps,
): Promise<{ records: AsyncIterable<KeyRecord>; close: () => Promise<void> }> {
  const method = methodOfPayload(backup.manifest.payload.object, backup.id);
  if (method === 'dump') return { records: decodeRecords(createReadStream(file)), close: async () => undefined };
  const scratch = await startScratchRedis({ dir: path.dirname(file), rdbFile: file, databases: databasesNeeded(backup), signal: deps.ctx.signal });
  try {
    const client = await scratch.client();
    const dbs = Object.keys(await keyspace(client)).map(Number).sort((a, b) => a - b);
    const stats: ReadStats = { keys: {}, expiring: {} };
    return { records: readKeys(client, dbs, () => deps.ctx.now().getTime(), stats, deps.ctx.signal), close: () => scratch.stop() };
  } catch (e) {
    await scratch.stop();
    throw e;
  }
}

function formatError(e: unknown, backup: CompleteBackup): unknown {
  return e instanceof FormatError ? runtimeError('payload_corrupt', `backup ${backup.id}: ${e.message}`) : e;
}

export interface RedisRestoreOptions extends PickBackup {
  conn: RedisConnInfo;
  flush?: boolean;
  yes?: boolean;
}

export interface RedisRestoreResult {
  backup: CompleteBackup;
  stats: WriteStats;
  flushed: boolean;
}

export async function runRedisRestore(opts: RedisRestoreOptions, deps: RedisDeps): Promise<RedisRestoreResult> {
  if (opts.flush && !opts.yes) {
    throw usageError('flush_needs_yes', '--flush deletes every key of the target Redis: add --yes to confirm');
  }
  const backup = await resolveRedisBackup(opts);
  if (methodOfPayload(backup.manifest.payload.object, backup.id) === 'rdb') await findRedisServer();
  const target = await connectRedis(opts.conn);
  let archive: FetchedArchive | undefined;
  try {
    const before = await keyspace(target);
    const present = Object.entries(before).filter(([, c]) => c.keys > 0);
    if (present.length > 0 && !opts.flush) {
      throw usageError(
        'target_not_empty',
        `target ${describeRedis(opts.conn)} is not empty (${present.map(([db, c]) => `db${db}: ${c.keys} keys`).join(', ')}); refusing to restore over it`,
        'Pass --flush --yes to delete every key first, or restore into an empty Redis',
      );
    }
    archive = await fetchPayload(backup, opts, 'redis restore', deps);
    const { records, close } = await snapshotRecords(backup, archive.file, deps);
    try {
      if (opts.flush) await target.flushall();
      const stats = await writeKeys(target, records, () => deps.ctx.now().getTime(), deps.ctx.signal).catch((e: unknown) => {
        throw formatError(e, backup);
      });
      return { backup, stats, flushed: Boolean(opts.flush) };
    } finally {
      await close();
    }
  } finally {
    target.disconnect();
    await archive?.cleanup();
  }
}

export interface DatabaseCheck {
  db: string;
  expected: number;
  actual: number;
  /** Keys with a TTL that expired since the backup (within what the manifest allows). */
  expiredSince: number;
  ok: boolean;
}

export interface RedisVerifyResult {
  backup: CompleteBackup;
  databases: DatabaseCheck[];
  passed: boolean;
}

/** Compares loaded key counts with the manifest, allowing keys with a TTL to have expired since. */
export function compareKeyCounts(
  expected: Record<string, number>,
  expiring: Record<string, number>,
  actual: Record<string, number>,
): DatabaseCheck[] {
  const dbs = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort((a, b) => Number(a) - Number(b));
  return dbs.map((db) => {
    const e = expected[db] ?? 0;
    const a = actual[db] ?? 0;
    const missing = e - a;
    const ok = missing === 0 || (missing > 0 && missing <= (expiring[db] ?? 0));
    return { db, expected: e, actual: a, expiredSince: ok ? missing : 0, ok };
  });
}

export async function runRedisVerify(opts: PickBackup, deps: RedisDeps): Promise<RedisVerifyResult> {
  const backup = await resolveRedisBackup(opts);
  await findRedisServer();
  const method = methodOfPayload(backup.manifest.payload.object, backup.id);
  const archive = await fetchPayload(backup, opts, 'redis verify', deps);
  let scratch: ScratchRedis | undefined;
  try {
    const dir = path.dirname(archive.file);
    let actual: Record<string, number>;
    if (method === 'rdb') {
      scratch = await startScratchRedis({ dir, rdbFile: archive.file, databases: databasesNeeded(backup), signal: deps.ctx.signal });
      actual = countsOf(await keyspace(await scratch.client()));
    } else {
      const scratchDir = path.join(dir, 'scratch');
      await fs.mkdir(scratchDir);
      scratch = await startScratchRedis({ dir: scratchDir, databases: databasesNeeded(backup), signal: deps.ctx.signal });
      const client: Redis = await scratch.client();
      await writeKeys(client, decodeRecords(createReadStream(archive.file)), () => deps.ctx.now().getTime(), deps.ctx.signal).catch((e: unknown) => {
        throw formatError(e, backup);
      });
      actual = countsOf(await keyspace(client));
    }
    const databases = compareKeyCounts(backup.manifest.redisKeys ?? {}, backup.manifest.redisExpiringKeys ?? {}, actual);
    return { backup, databases, passed: databases.every((d) => d.ok) };
  } finally {
    await scratch?.stop();
    await archive.cleanup();
  }
}

function countsOf(ks: Record<string, { keys: number }>): Record<string, number> {
  return Object.fromEntries(Object.entries(ks).map(([db, c]) => [db, c.keys]));
}
