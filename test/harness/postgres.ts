/**
 * Ephemeral PostgreSQL clusters for tests and the demo: a temp dir, a free port, fsync off, password auth on
 * TCP (so wrong-password cases are real). initdb refuses to run as root, so as root the cluster is created and
 * run by the `postgres` user. `stop()` is idempotent and also runs at process exit, so a failing test never
 * leaves a server behind.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { MissingBinaryError, postgresBinDir } from './binaries';
import { freePort, retryWhilePortTaken } from './ports';

export interface PgCluster {
  host: string;
  port: number;
  user: string;
  password: string;
  binDir: string;
  dir: string;
  dataDir: string;
  /** A connection URL for `database` (default `postgres`), password included: for code, never for output. */
  url(database?: string): string;
  /** Runs SQL as the superuser in `database` and returns the rows. */
  query<T = Record<string, unknown>>(sql: string, database?: string): Promise<T[]>;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string>;
  /** Start from an existing data dir (replicas) instead of running initdb. */
  dataDir?: string;
  dir?: string;
  port?: number;
  user?: string;
  password?: string;
  /** Extra environment for the server (e.g. LOCPATH: locales of its own, see compileLocale). */
  env?: Record<string, string>;
  /** The server's bin folder (another major: otherPostgresBinDir); default the newest Debian one. */
  binDir?: string;
}

const running = new Set<() => void>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const stop of running) stop();
  });
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function asPostgresUser(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): string {
  // runuser without --login keeps the environment, so the server sees opts.env.
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd ?? '/', env: { ...process.env, ...opts.env } });
}

/**
 * A glibc locale only the servers started with the returned folder as LOCPATH have (StartOptions.env): a source
 * whose database uses a locale a fresh target lacks. Needs localedef and the locale sources (package locales).
 */
export function compileLocale(dir: string, input: string, charmap: string): { locpath: string; name: string } {
  if (!existsSync(`/usr/share/i18n/charmaps/${charmap}.gz`) || !existsSync(`/usr/share/i18n/locales/${input}`)) {
    throw new MissingBinaryError(`the glibc locale sources for ${input}.${charmap} (/usr/share/i18n)`, 'locales');
  }
  const name = `${input}.${charmap}`;
  const locpath = path.join(dir, 'locales');
  mkdirSync(locpath, { recursive: true });
  try {
    execFileSync('localedef', ['-i', input, '-f', charmap, path.join(locpath, name)], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    // localedef exits 1 on warnings while still writing the locale.
    if (!existsSync(path.join(locpath, name, 'LC_CTYPE'))) throw e;
  }
  return { locpath, name };
}

function postgresUid(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** A temp dir the cluster's OS user owns. */
export function clusterTempDir(prefix = 'lifeboat-pg-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  if (isRoot) {
    const { uid, gid } = postgresUid();
    chownSync(dir, uid, gid);
  }
  return dir;
}

export async function startPostgres(opts: StartOptions = {}): Promise<PgCluster> {
  // A port found free can be taken by another test's server before ours binds it: start again on another one.
  return opts.port !== undefined ? startPostgresOnce(opts) : retryWhilePortTaken(() => startPostgresOnce(opts));
}

async function startPostgresOnce(opts: StartOptions): Promise<PgCluster> {
  const binDir = opts.binDir ?? postgresBinDir();
  const user = opts.user ?? 'postgres';
  const password = opts.password ?? 'Lb-test-pw-' + Math.random().toString(36).slice(2, 10);
  const dir = opts.dir ?? clusterTempDir();
  const dataDir = opts.dataDir ?? path.join(dir, 'data');
  const port = opts.port ?? (await freePort());

  if (!opts.dataDir) {
    const pwfile = path.join(dir, 'pw');
    writeFileSync(pwfile, password + '\n', { mode: 0o600 });
    if (isRoot) {
      const { uid, gid } = postgresUid();
      chownSync(pwfile, uid, gid);
    }
    asPostgresUser(path.join(binDir, 'initdb'), [
      '-D', dataDir, '-U', user, '--pwfile', pwfile, '--auth-local=trust', '--auth-host=scram-sha-256',
      '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync',
    ]);
    rmSync(pwfile, { force: true });
    // Replication connections from localhost with a password (replica tests use pg_basebackup -R).
    execFileSync('sh', ['-c', `echo "host replication all 127.0.0.1/32 scram-sha-256" >> ${dataDir}/pg_hba.conf`]);
  }

  const settings: Record<string, string> = {
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    port: String(port),
    max_connections: '50',
    wal_level: 'replica',
    max_wal_senders: '5',
    ...opts.settings,
  };
  const o = Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`).join(' ');
  const logFile = path.join(dir, 'server.log');
  rmSync(logFile, { force: true }); // pg_ctl appends: the tail read below must be this start's
  try {
    asPostgresUser(path.join(binDir, 'pg_ctl'), ['-D', dataDir, '-o', o, '-l', logFile, '-w', '-t', '30', 'start'], { env: opts.env });
  } catch (e) {
    let log = '';
    try {
      log = execFileSync('tail', ['-20', logFile], { encoding: 'utf8' });
    } catch {
      /* no log */
    }
    // Nothing runs: a next attempt (another port) makes its own cluster again, or reuses the data dir it was given.
    if (!opts.dataDir) rmSync(opts.dir ? dataDir : dir, { recursive: true, force: true });
    throw new Error(`could not start PostgreSQL in ${dataDir}: ${(e as Error).message}\n${log}`);
  }

  let stopped = false;
  const stopSync = (): void => {
    if (stopped) return;
    stopped = true;
    spawnSync(isRoot ? 'runuser' : path.join(binDir, 'pg_ctl'), [
      ...(isRoot ? ['-u', 'postgres', '--', path.join(binDir, 'pg_ctl')] : []),
      '-D', dataDir, '-m', 'immediate', '-w', 'stop',
    ], { stdio: 'ignore', cwd: '/' });
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  };
  running.add(stopSync);
  installExitHook();

  const url = (database = 'postgres'): string =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;

  const cluster: PgCluster = {
    host: '127.0.0.1',
    port,
    user,
    password,
    binDir,
    dir,
    dataDir,
    url,
    async query<T>(sql: string, database = 'postgres'): Promise<T[]> {
      const c = new Client({ connectionString: url(database) });
      await c.connect();
      try {
        const r = await c.query(sql);
        const results = Array.isArray(r) ? r : [r];
        return (results[results.length - 1]?.rows ?? []) as T[];
      } finally {
        await c.end();
      }
    },
    async createDatabase(name: string): Promise<void> {
      await cluster.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    },
    async stop(): Promise<void> {
      stopSync();
      running.delete(stopSync);
    },
  };
  return cluster;
}
