/**
 * `lifeboat redis restore`: a Redis backup copied key by key into a Redis, with RESTORE ... REPLACE ABSTTL
 * (expiry preserved as the original instant).
 *
 * The payload is fetched and proven intact first (runner/redis/stored-snapshot.ts). An RDB snapshot cannot be fed
 * to a running server (that needs a restart with the file in its data dir, which a managed Redis does not allow),
 * so it is loaded into a scratch redis-server on a free local port and copied from there with SCAN + DUMP + PTTL,
 * the same path as the `dump` method. A non-empty target is refused unless the caller passed --flush --yes (then
 * FLUSHALL, only after the payload was proven intact).
 */
import type { CompleteBackup } from '../catalog/catalog';
import type { FetchedArchive } from '../payload/fetch';
import { usageError } from '../errors';
import { compareKeyCounts, type DatabaseCheck } from '../redis/key-counts';
import { connectRedis, describeRedis, keyspace, type RedisConnInfo } from '../redis/connection';
import { writeKeys, type WriteStats } from '../redis/keys';
import { methodOfPayload } from '../redis/payload';
import { findRedisServer } from '../redis/scratch';
import { fetchPayload, formatError, resolveRedisBackup, snapshotRecords, type PickBackup, type RedisDeps } from '../redis/stored-snapshot';

export type { PickBackup, RedisDeps } from '../redis/stored-snapshot';

export interface RedisRestoreOptions extends PickBackup {
  conn: RedisConnInfo;
  flush?: boolean;
  yes?: boolean;
}

export interface RedisRestoreResult {
  backup: CompleteBackup;
  stats: WriteStats;
  flushed: boolean;
  /** Per database: keys written plus keys skipped as expired, against the manifest's count. */
  databases: DatabaseCheck[];
  passed: boolean;
}

/** A key the backup held that expired before it could be written still counts as restored. */
function checkRestoredCounts(backup: CompleteBackup, stats: WriteStats): DatabaseCheck[] {
  const dbs = new Set([...Object.keys(stats.restored), ...Object.keys(stats.expired)]);
  const written = Object.fromEntries([...dbs].map((db) => [db, (stats.restored[db] ?? 0) + (stats.expired[db] ?? 0)]));
  return compareKeyCounts(backup.manifest.redisKeys ?? {}, backup.manifest.redisExpiringKeys ?? {}, written);
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
      const databases = checkRestoredCounts(backup, stats);
      return { backup, stats, flushed: Boolean(opts.flush), databases, passed: databases.every((d) => d.ok) };
    } finally {
      await close();
    }
  } finally {
    target.disconnect();
    await archive?.cleanup();
  }
}

