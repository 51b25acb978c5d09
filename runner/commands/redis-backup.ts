/**
 * `lifeboat redis backup`: one Redis snapshot into storage, manifest last.
 *
 * Method `rdb` (default): `redis-cli --rdb FILE` fetches a point-in-time RDB over the replication protocol
 * (the server forks and streams its snapshot as it would to a new replica). We spawn redis-cli rather than
 * speak SYNC/PSYNC ourselves: it is the reference implementation of that handshake (capability negotiation,
 * diskless `$EOF:<mark>` framing, TLS, ACL users) and ships in the runner image as redis-tools; its exit status
 * is authoritative. The password goes through REDISCLI_AUTH, never argv. The file is then loaded once into a
 * scratch redis-server: that proves Redis accepts it (the RDB's CRC64 is checked on load) and yields the exact
 * key counts per database for the manifest. Then: file ─▶ zstd ─▶ [age] ─▶ sha256 ─▶ storage.
 *
 * Method `dump`, for managed Redis that refuses SYNC (ElastiCache, Memorystore, Azure): SCAN + DUMP + PTTL of
 * every key of every database into the framed format of runner/redis/format.ts, streamed the same way. It is
 * not point-in-time (keys are read over the duration of the scan); `snapshotAt` is the scan's start, the
 * conservative instant for RPO.
 */
import { promises as fs } from 'node:fs';
import type { RunContext } from '../context';
import { SOURCE_NAME_PATTERN, manifestKey as manifestKeyOf, newBackupId, payloadKey as payloadKeyOf, type BackupClass } from '../contract/layout';
import { serializeManifest, type Manifest, type ManifestInput } from '../contract/manifest';
import { createEncryptor } from '../crypto/age';
import { listBackups } from '../catalog/catalog';
import { chooseClass } from '../retention/classify';
import { backupRetention, checkLockable, type ObjectLockPolicy } from '../retention/object-lock';
import { usageError } from '../errors';
import type { Spawner } from '../pipeline/spawn';
import type { Storage } from '../storage/types';
import { findZstd, zstdLevelFromEnv } from '../payload/zstd';
import { connectRedis, describeRedis, serverVersion, type RedisConnInfo } from '../redis/connection';
import { storeCompressed } from '../redis/store';
import { databaseCount, dumpSnapshot, rdbSnapshot, tempDir } from '../redis/snapshot';
import { redisPayloadName, type RedisMethod } from '../redis/payload';

export interface RedisBackupOptions {
  conn: RedisConnInfo;
  storage: Storage;
  /** Source name in the layout; default: the host (and port when not 6379). */
  source?: string;
  method?: RedisMethod;
  requestedClass?: BackupClass;
  encryptTo?: string[];
  /** Called once the class and id are chosen, before the snapshot: a failed run's final event names them. */
  onPlanned?: (planned: { cls: BackupClass; id: string; source: string }) => void;
  /** --object-lock / LIFEBOAT_OBJECT_LOCK: lock the payload and the manifest for the class's retention. */
  objectLock?: ObjectLockPolicy;
}

export interface RedisBackupDeps {
  ctx: Pick<RunContext, 'env' | 'logger' | 'now' | 'signal' | 'stderr'>;
  spawner?: Spawner;
}

export interface RedisBackupResult {
  manifest: Manifest;
  manifestKey: string;
  payloadKey: string;
}

export function redisSourceName(conn: RedisConnInfo, source: string | undefined): string {
  const name = source ?? (conn.port === 6379 ? conn.host : `${conn.host}-${conn.port}`);
  if (!SOURCE_NAME_PATTERN.test(name)) {
    throw usageError(
      'source_invalid',
      `${source ? '--source' : 'the host name (the default source name)'} must match ${SOURCE_NAME_PATTERN}, got ${JSON.stringify(name)}`,
      source ? undefined : 'Pass --source NAME',
    );
  }
  return name;
}

export async function runRedisBackup(opts: RedisBackupOptions, deps: RedisBackupDeps): Promise<RedisBackupResult> {
  const { ctx } = deps;
  const method = opts.method ?? 'rdb';
  const source = redisSourceName(opts.conn, opts.source);
  checkLockable(opts.objectLock, opts.storage);
  const startedAt = ctx.now();
  ctx.signal.throwIfAborted();
  const zstd = await findZstd();
  zstdLevelFromEnv(ctx.env); // a bad LIFEBOAT_ZSTD_LEVEL is refused before Redis is contacted

  const probe = await connectRedis(opts.conn);
  let version: string;
  let databases: number;
  try {
    version = await serverVersion(probe);
    databases = await databaseCount(probe);
  } finally {
    probe.disconnect();
  }
  const existing = await listBackups(opts.storage, { engine: 'redis', source });
  const cls = chooseClass(
    startedAt,
    existing.map((b) => ({ cls: b.cls, at: new Date(b.manifest.snapshotAt), kind: b.manifest.kind })),
    opts.requestedClass,
    'full',
  );
  const id = newBackupId(startedAt);
  const encryptTo = opts.encryptTo ?? [];
  const encryptor = encryptTo.length ? await createEncryptor(encryptTo) : null;
  const object = redisPayloadName(method, encryptor !== null);
  const payloadKey = payloadKeyOf(cls, 'redis', source, id, object);
  const manifestKey = manifestKeyOf(cls, 'redis', source, id);
  const retention = backupRetention(opts.objectLock, cls, startedAt);
  opts.onPlanned?.({ cls, id, source });
  ctx.logger.info({ source, class: cls, backupId: id, method }, `redis backup of ${describeRedis(opts.conn)} started`);

  const dir = await tempDir(ctx.env);
  let close = (): void => undefined;
  try {
    const snap = method === 'rdb' ? await rdbSnapshot(opts.conn, dir, databases, deps) : await dumpSnapshot(opts.conn, deps);
    if ('close' in snap) close = snap.close as () => void;
    const stored = await storeCompressed(
      snap.raw,
      { storage: opts.storage, key: payloadKey, encryptor, label: 'redis backup', expectedRawBytes: snap.expectedRawBytes, retention },
      ctx,
      deps.spawner,
    );
    const counts = snap.counts();
    const finishedAt = ctx.now();
    const manifest: ManifestInput = {
      formatVersion: 1,
      id,
      class: cls,
      engine: 'redis',
      source,
      kind: 'full',
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      snapshotAt: startedAt.toISOString(),
      durationSeconds: Math.round(finishedAt.getTime() - startedAt.getTime()) / 1000,
      server: { version },
      tools: { ...snap.tools, zstd: zstd.version, ...(encryptor ? { age: 'age-encryption' } : {}) },
      sourceInfo: { host: opts.conn.host, port: opts.conn.port },
      payload: {
        object,
        rawBytes: stored.rawBytes,
        storedBytes: stored.storedBytes,
        sha256: stored.sha256,
        compression: 'zstd',
        encryption: encryptor ? { scheme: 'age', recipients: encryptor.fingerprints } : null,
      },
      redisKeys: counts.keys,
      redisExpiringKeys: counts.expiring,
      ...(retention ? { lock: { mode: retention.mode, retainUntil: retention.retainUntil.toISOString() } } : {}),
    };
    const text = serializeManifest(manifest);
    await opts.storage.putBytes(manifestKey, text, { contentType: 'application/json', ...(retention ? { retention } : {}) });
    return { manifest: JSON.parse(text) as Manifest, manifestKey, payloadKey };
  } finally {
    close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}
