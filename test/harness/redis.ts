/**
 * Ephemeral redis-server processes for tests: a temp dir, a free port on 127.0.0.1, a password (so redaction
 * is tested against a real secret), no persistence, `--repl-diskless-sync-delay 0` (else every `redis-cli --rdb`
 * waits ~5 s). A missing binary fails naming the Debian package. `stop()` is idempotent and also runs at
 * process exit, so a failing test never leaves a server behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { requireOnPath } from './binaries';
import { freePort, retryWhilePortTaken } from './ports';

export interface RedisServer {
  host: string;
  port: number;
  password: string;
  /** redis://:PASSWORD@127.0.0.1:PORT: for code, never for output. */
  url: string;
  /** A connected client on logical database `db`. */
  client(db?: number): Promise<Redis>;
  stop(): Promise<void>;
}

export interface RedisStartOptions {
  password?: string;
  /** Extra `--name value` settings; an array for a directive with several arguments (`rename-command`). */
  settings?: Record<string, string | string[]>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

export async function startRedis(opts: RedisStartOptions = {}): Promise<RedisServer> {
  // A port found free can be taken by another test's server before ours binds it: start again on another one.
  return retryWhilePortTaken(() => startRedisOnce(opts));
}

async function startRedisOnce(opts: RedisStartOptions): Promise<RedisServer> {
  const binary = requireOnPath('redis-server', 'redis-server');
  const port = await freePort();
  const password = opts.password ?? 'Rd-test-pw-' + Math.random().toString(36).slice(2, 10);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-redis-'));
  const settings: Record<string, string | string[]> = {
    port: String(port),
    bind: '127.0.0.1',
    requirepass: password,
    dir,
    save: '',
    appendonly: 'no',
    'repl-diskless-sync-delay': '0',
    daemonize: 'no',
    ...opts.settings,
  };
  const args = Object.entries(settings).flatMap(([k, v]) => [`--${k}`, ...(Array.isArray(v) ? v : [v])]);
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  running.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const clients: Redis[] = [];
  const connect = async (db = 0): Promise<Redis> => {
    const c = new Redis({ host: '127.0.0.1', port, password, db, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => undefined);
    await c.connect();
    clients.push(c);
    return c;
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited at start:\n${log}`);
    try {
      const c = await connect();
      await c.ping();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`redis-server did not answer on port ${port} within 15 s:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  let stopped = false;
  return {
    host: '127.0.0.1',
    port,
    password,
    url: `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    client: connect,
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const c of clients) c.disconnect();
      child.kill('SIGTERM');
      await exited;
      running.delete(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
