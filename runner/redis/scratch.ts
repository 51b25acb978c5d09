/**
 * A throwaway `redis-server` on 127.0.0.1 and a free port, optionally loading an RDB file at start: how an RDB
 * snapshot is counted (backup), proven (verify) and read key by key (restore). No persistence, a random
 * password (the data is a copy of production), and it is always stopped by the caller in a finally.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import type Redis from 'ioredis';
import { runtimeError, usageError } from '../errors';
import { connectRedis, type RedisConnInfo } from './connection';
import { dyingWithRunner, watchChild } from '../pipeline/spawn';

export interface ScratchRedis {
  conn: RedisConnInfo;
  client(db?: number): Promise<Redis>;
  stop(): Promise<void>;
}

export interface RedisTool {
  path: string;
  version: string;
}

function findRedisTool(binary: 'redis-server' | 'redis-cli', pkg: string): Promise<RedisTool> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['--version'], { timeout: 10_000 }, (err, stdout) => {
      if (err) {
        return reject(usageError('tool_missing', `${binary} is not installed (needed for Redis snapshots)`, `Install it with "apt-get install -y ${pkg}"`));
      }
      const m = /v=(\d+\.\d+\.\d+)|(\d+\.\d+\.\d+)/.exec(stdout);
      resolve({ path: binary, version: m ? (m[1] ?? m[2])! : stdout.trim() });
    });
  });
}

export const findRedisServer = (): Promise<RedisTool> => findRedisTool('redis-server', 'redis-server');
export const findRedisCli = (): Promise<RedisTool> => findRedisTool('redis-cli', 'redis-tools');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no free port'))));
    });
  });
}

export interface ScratchOptions {
  /** A folder the server may use (and where `rdbFile` lives, if given). */
  dir: string;
  /** An RDB file to load at start. */
  rdbFile?: string;
  /** Logical databases; 16 is Redis's default. */
  databases?: number;
  signal?: AbortSignal;
}

export async function startScratchRedis(opts: ScratchOptions): Promise<ScratchRedis> {
  // A port found free can be taken by someone else before the server binds it: try another one.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (e) {
      if (attempt >= 3 || !/Address already in use/i.test((e as Error).message)) throw e;
    }
  }
}

async function startOnce(opts: ScratchOptions): Promise<ScratchRedis> {
  const server = await findRedisServer();
  const port = await freePort();
  const password = randomBytes(18).toString('hex');
  const dbfile = opts.rdbFile ?? path.join(opts.dir, 'scratch.rdb');
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--requirepass', password,
    '--dir', path.dirname(dbfile), '--dbfilename', path.basename(dbfile),
    '--save', '', '--appendonly', 'no', '--databases', String(opts.databases ?? 16),
    '--repl-diskless-sync-delay', '0', '--logfile', '', '--loglevel', 'warning', '--daemonize', 'no',
  ];
  // It holds the whole dataset in memory: it must not outlive a runner killed outright.
  const [file, argv] = dyingWithRunner(server.path, args);
  const child = watchChild('redis-server', spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] }));
  // With an empty --logfile the server logs to stdout: keep its tail to explain a failed load.
  let log = '';
  child.child.stdout?.setEncoding('utf8');
  child.child.stdout?.on('data', (s: string) => {
    log = (log + s).slice(-8192);
  });
  const conn: RedisConnInfo = { host: '127.0.0.1', port, password, tls: false };
  const clients: Redis[] = [];
  let exited = false;
  void child.done.then(() => {
    exited = true;
  });
  const stop = async (): Promise<void> => {
    for (const c of clients) c.disconnect();
    child.kill();
    await child.done;
  };
  try {
    await waitReady(conn, () => exited, child.done.then((r) => ({ code: r.code, stderr: log + r.stderr })), opts.signal);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    conn,
    async client(db = 0) {
      const c = await connectRedis(conn, db);
      clients.push(c);
      return c;
    },
    stop,
  };
}

/** Waits until the server answers PING (not LOADING): loading a big RDB takes a while. */
async function waitReady(conn: RedisConnInfo, exited: () => boolean, done: Promise<{ stderr: string; code: number | null }>, signal?: AbortSignal): Promise<void> {
  for (;;) {
    signal?.throwIfAborted();
    if (exited()) {
      const r = await done;
      const why = r.stderr.trim().split('\n').slice(-3).join(' | ') || `exit code ${r.code}`;
      throw runtimeError('scratch_redis_failed', `the scratch redis-server did not start or could not load the snapshot: ${why}`);
    }
    try {
      const c = await connectRedis(conn);
      c.disconnect();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
