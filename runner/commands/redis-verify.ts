/**
 * `lifeboat redis verify`: a Redis backup loaded into a scratch redis-server (an RDB directly, a key stream
 * through RESTORE) after its payload was proven intact (runner/redis/stored-snapshot.ts), and the key count of
 * every logical database compared with the manifest. Keys with a TTL may have expired since the backup; a
 * shortfall within the manifest's count of expiring keys passes and is reported.
 */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type Redis from 'ioredis';
import type { CompleteBackup } from '../catalog/catalog';
import { keyspace } from '../redis/connection';
import { decodeRecords } from '../redis/format';
import { compareKeyCounts, countsOf, type DatabaseCheck } from '../redis/key-counts';
import { writeKeys } from '../redis/keys';
import { methodOfPayload } from '../redis/payload';
import { findRedisServer, startScratchRedis, type ScratchRedis } from '../redis/scratch';
import { databasesNeeded, fetchPayload, formatError, resolveRedisBackup, type PickBackup, type RedisDeps } from '../redis/stored-snapshot';

export interface RedisVerifyResult {
  backup: CompleteBackup;
  databases: DatabaseCheck[];
  passed: boolean;
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
