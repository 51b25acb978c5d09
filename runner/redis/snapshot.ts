/**
 * Taking a Redis snapshot for a backup: an RDB fetched with `redis-cli --rdb` over the replication protocol and
 * proven by loading it into a scratch redis-server (method rdb), or every key read with SCAN + DUMP + PTTL
 * (method dump). runner/commands/redis-backup.ts says why each, and stores what these return.
 */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { RunContext } from '../context';
import { runtimeError } from '../errors';
import { childSucceeded, defaultSpawner, describeChildFailure, watchChild, type Spawner } from '../pipeline/spawn';
import { makeTempDir } from '../pipeline/temp-dir';
import { connectRedis, describeRedis, keyspace, type RedisConnInfo } from './connection';
import { encodeRecords } from './format';
import { readKeys, type ReadStats } from './keys';
import { findRedisCli, findRedisServer, startScratchRedis } from './scratch';

export interface SnapshotDeps {
  ctx: Pick<RunContext, 'env' | 'logger' | 'now' | 'signal' | 'stderr'>;
  spawner?: Spawner;
}

/** A temp folder for the snapshot (runner/pipeline/temp-dir.ts: removed by the next run if this one is killed). */
export async function tempDir(env: NodeJS.ProcessEnv): Promise<string> {
  return (await makeTempDir(env, 'lifeboat-redis-', 'the snapshot')).dir;
}

export interface Snapshot {
  raw: Readable;
  expectedRawBytes?: number;
  /** Known once `raw` has been read whole. */
  counts: () => { keys: Record<string, number>; expiring: Record<string, number> };
  tools: Record<string, string>;
}

/**
 * How many logical databases the scratch server needs to load the source's RDB: redis-server refuses a file
 * holding a database number at or above its own `databases` setting. The source's setting when it tells
 * (CONFIG may be renamed away), and never fewer than its highest non-empty database + 1, nor than Redis's 16.
 */
export async function databaseCount(client: Awaited<ReturnType<typeof connectRedis>>): Promise<number> {
  const used = Object.keys(await keyspace(client)).map((db) => Number(db) + 1);
  const configured = await client
    .call('CONFIG', 'GET', 'databases')
    .then((r) => (Array.isArray(r) ? Number(r[1]) : NaN))
    .catch(() => NaN);
  return Math.max(16, ...used, Number.isInteger(configured) ? configured : 0);
}

/** Fetches the RDB into `dir`, loads it into a scratch server to count keys, and offers it as a stream. */
export async function rdbSnapshot(conn: RedisConnInfo, dir: string, databases: number, deps: SnapshotDeps): Promise<Snapshot> {
  const { ctx } = deps;
  const cli = await findRedisCli();
  await findRedisServer();
  const file = path.join(dir, 'snapshot.rdb');
  const args = ['-h', conn.host, '-p', String(conn.port), '--no-auth-warning'];
  if (conn.username) args.push('--user', conn.username);
  if (conn.tls) args.push('--tls');
  args.push('--rdb', file);
  const env = { ...ctx.env, ...(conn.password ? { REDISCLI_AUTH: conn.password } : {}) };
  const child = watchChild('redis-cli --rdb', (deps.spawner ?? defaultSpawner)(cli.path, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }));
  child.child.stdout?.resume();
  const onAbort = (): void => child.kill();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const result = await child.done.finally(() => ctx.signal.removeEventListener('abort', onAbort));
  ctx.signal.throwIfAborted();
  // redis-cli reports refusals (SYNC disabled, NOAUTH) on stderr and may still exit 0 in old versions: both count.
  // The progress lines name the temp file, which must not be mistaken for an error message.
  const complaints = result.stderr.split('\n').filter((l) => !l.includes(file)).join('\n');
  if (!childSucceeded(result) || /error|refused|NOAUTH|WRONGPASS|unknown command/i.test(complaints)) {
    throw runtimeError(
      'redis_snapshot_failed',
      `taking an RDB snapshot of ${describeRedis(conn)} failed: ${describeChildFailure(result)}`,
      'Managed Redis services often refuse replication commands: use --method dump',
    );
  }
  const scratch = await startScratchRedis({ dir, rdbFile: file, databases, signal: ctx.signal });
  let counts: Record<string, { keys: number; expires: number }>;
  try {
    counts = await keyspace(await scratch.client());
  } finally {
    await scratch.stop();
  }
  const size = (await fs.stat(file)).size;
  return {
    raw: createReadStream(file),
    expectedRawBytes: size,
    counts: () => ({
      keys: Object.fromEntries(Object.entries(counts).map(([db, c]) => [db, c.keys])),
      expiring: Object.fromEntries(Object.entries(counts).map(([db, c]) => [db, c.expires])),
    }),
    tools: { 'redis-cli': cli.version, method: 'rdb' },
  };
}

export async function dumpSnapshot(conn: RedisConnInfo, deps: SnapshotDeps): Promise<Snapshot & { close: () => void }> {
  const { ctx } = deps;
  const client = await connectRedis(conn);
  const dbs = Object.keys(await keyspace(client)).map(Number).sort((a, b) => a - b);
  const stats: ReadStats = { keys: {}, expiring: {} };
  const records = readKeys(client, dbs, () => ctx.now().getTime(), stats, ctx.signal);
  return {
    raw: Readable.from(encodeRecords(records), { objectMode: false }),
    counts: () => stats,
    tools: { method: 'dump', format: 'LBRKEYS1' },
    close: () => client.disconnect(),
  };
}

