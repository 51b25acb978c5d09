/**
 * A stored Redis backup made ready to read, for `redis restore` and `redis verify`: the backup resolved, its
 * payload fetched whole into a temp folder through runner/payload/fetch.ts (sha256 of the stored bytes checked
 * against the manifest, then decrypted and decompressed, so nothing is read from a payload not proven intact),
 * and its keys as records (decoded from a key stream, or read out of a scratch redis-server holding the RDB).
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { RunContext } from '../context';
import { resolveBackup, type CompleteBackup } from '../catalog/catalog';
import { fetchArchive, type FetchedArchive } from '../payload/fetch';
import { runtimeError } from '../errors';
import type { Spawner } from '../pipeline/spawn';
import type { Storage } from '../storage/types';
import { keyspace } from './connection';
import { decodeRecords, FormatError, type KeyRecord } from './format';
import { readKeys, type ReadStats } from './keys';
import { methodOfPayload } from './payload';
import { startScratchRedis } from './scratch';

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

export function databasesNeeded(backup: CompleteBackup): number {
  const dbs = Object.keys(backup.manifest.redisKeys ?? {}).map(Number);
  return Math.max(16, ...dbs.map((d) => d + 1));
}

export async function fetchPayload(backup: CompleteBackup, p: PickBackup, label: string, deps: RedisDeps): Promise<FetchedArchive> {
  return fetchArchive(backup, p.storage, { identityText: p.identityText, label }, { ctx: deps.ctx, spawner: deps.spawner });
}

/** The snapshot's keys as records: decoded from a key stream, or read out of a scratch server holding the RDB. */
export async function snapshotRecords(
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

export function formatError(e: unknown, backup: CompleteBackup): unknown {
  return e instanceof FormatError ? runtimeError('payload_corrupt', `backup ${backup.id}: ${e.message}`) : e;
}

