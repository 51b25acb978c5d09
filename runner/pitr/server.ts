/**
 * The drill's throwaway server: the restored data directory started by the `postgres` binary itself (so its pid
 * is ours to record and stop), as the cluster's OS user, reachable only on a Unix socket in the drill's private
 * folder with a pg_hba of its own (trust, local only): no password is needed and nothing outside can connect.
 * Settings that would reach outside or break on a smaller host are overridden on the command line, which wins
 * over postgresql.conf and postgresql.auto.conf: no archiving (a promoted copy must never push WAL into the
 * source's repository), no TCP, modest shared_buffers, no hot standby (its checks against the source's
 * max_connections and friends do not apply to a server that only replays and promotes).
 */
import { spawn } from 'node:child_process';
import { promises as fs, openSync, closeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client } from 'pg';
import { runtimeError } from '../errors';
import type { OsUser } from './os-user';

export interface DrillServer {
  pid: number;
  socketDir: string;
  port: number;
  logFile: string;
  /** Waits until recovery is over and the server promoted; rejects with the log's last lines if it exits. */
  promoted(signal?: AbortSignal): Promise<void>;
  connect(database: string, user: string): Promise<Client>;
  /** Immediate shutdown (SIGQUIT), or with `clean` a fast one (SIGINT: a checkpoint, so the next start needs no recovery); SIGKILL after a while. */
  stop(clean?: boolean): Promise<void>;
}

export interface DrillServerOptions {
  binDir: string;
  dataDir: string;
  /** The drill's private folder: socket, log, hba file. */
  dir: string;
  port: number;
  owner: OsUser;
  /** The database user the drill connects as (trusted on the private socket). */
  user: string;
  onSpawn?: (pid: number) => void;
}

export async function startDrillServer(opts: DrillServerOptions): Promise<DrillServer> {
  const hba = path.join(opts.dir, 'drill_hba.conf');
  await fs.writeFile(hba, 'local all all trust\n', { mode: 0o600 });
  await opts.owner.chown(hba);
  const logFile = path.join(opts.dir, 'server.log');
  const fd = openSync(logFile, 'a', 0o600);
  const settings: Record<string, string> = {
    port: String(opts.port),
    listen_addresses: '',
    unix_socket_directories: opts.dir,
    unix_socket_permissions: '0700',
    hba_file: hba,
    archive_mode: 'off',
    hot_standby: 'off',
    shared_buffers: '128MB',
    logging_collector: 'off',
    log_destination: 'stderr',
    // Recovery messages in English: the drill reads them.
    lc_messages: 'C',
  };
  const args = ['-D', opts.dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const child = spawn(path.join(opts.binDir, 'postgres'), args, { cwd: '/', stdio: ['ignore', fd, fd], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' }, ...opts.owner.spawnIds() });
  closeSync(fd);
  if (child.pid !== undefined) opts.onSpawn?.(child.pid);
  const started = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid!));
    child.once('error', (e) => reject(runtimeError('drill_server_failed', `could not start ${path.join(opts.binDir, 'postgres')}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
  });
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    exit = { code, signal };
    resolve();
  }));

  const connect = async (database: string, user: string): Promise<Client> => {
    const c = new Client({ host: opts.dir, port: opts.port, database, user, application_name: 'lifeboat-pitr-drill' });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  };
  return {
    pid: started,
    socketDir: opts.dir,
    port: opts.port,
    logFile,
    async promoted(signal) {
      for (;;) {
        signal?.throwIfAborted();
        if (exit) {
          const e = exit as { code: number | null; signal: NodeJS.Signals | null };
          throw runtimeError('drill_recovery_failed', `the restored server stopped during recovery (${e.signal ?? `exit code ${e.code}`}): ${await logTail(logFile)}`);
        }
        try {
          const c = await connect('postgres', opts.user).catch(() => null);
          if (c) {
            try {
              const r = await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
              if (!r.rows[0]!.r) return;
            } finally {
              await c.end().catch(() => undefined);
            }
          }
        } catch {
          /* not ready yet */
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    connect,
    async stop(clean = false) {
      if (exit) return;
      child.kill(clean ? 'SIGINT' : 'SIGQUIT');
      const t = setTimeout(() => child.kill('SIGKILL'), clean ? 120_000 : 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** The log's FATAL/ERROR lines, or its last lines. */
export async function logTail(file: string): Promise<string> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  // Without pgBackRest's own lines (restore_command) and the refusals of our connection attempts during startup.
  const lines = text.split('\n').filter((l) => l.trim() && !/ P\d\d +INFO: /.test(l) && !/database system is (starting up|not (yet )?accepting connections)/.test(l));
  const bad = lines.filter((l) => /FATAL|PANIC|ERROR/.test(l));
  return (bad.length ? bad : lines).slice(-4).map((l) => l.replace(/^\S+ \S+ \S+ \[\d+\] /, '')).join(' | ') || 'no log';
}

export interface RecoveryOutcome {
  /** Recovery found the target and stopped there ("recovery stopping before/after ..."). */
  reachedTarget: boolean;
  /** The commit time of the transaction recovery stopped at (the first one past the target, not replayed). */
  stoppedAt: string | null;
  /** The last transaction replayed: what the restored cluster holds. */
  lastTransactionAt: string | null;
  /** FATAL/PANIC lines, when recovery failed. */
  failure: string | null;
}

/** What the server log says about recovery (PostgreSQL's own messages, lc_messages=C). */
export function parseRecoveryLog(text: string): RecoveryOutcome {
  const stop = /recovery stopping (?:before|after) (?:commit|abort) of transaction \d+, time (.+)$/m.exec(text);
  const last = /last completed transaction was at log time (.+)$/m.exec(text);
  const failure = /(?:FATAL|PANIC): +(.+)$/m.exec(text);
  return {
    reachedTarget: !!stop,
    stoppedAt: stop ? stop[1]!.trim() : null,
    lastTransactionAt: last ? last[1]!.trim() : null,
    failure: failure ? failure[1]!.trim() : null,
  };
}

/** A port free a moment ago: it names the server's socket (the server listens on no TCP port). */
export function freePort(): Promise<number> {
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
