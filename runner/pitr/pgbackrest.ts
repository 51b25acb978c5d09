/**
 * Running pgBackRest: always with this source's configuration (configArgs), as the cluster's OS user, from `/`
 * (the user may not be able to enter our working folder), with a small environment of our own. The database
 * password reaches it as PGPASSWORD (libpq reads it); a cipher passphrase given for a restore on a new host as
 * PGBACKREST_REPO1_CIPHER_PASS; neither ever appears in an argument list. On a terminal pgBackRest's info lines
 * are shown as progress; off one, only its result and errors are logged.
 */
import { spawn } from 'node:child_process';
import { runtimeError, usageError } from '../errors';
import { redact } from '../redact';
import type { Output } from '../context';
import { configArgs, type PitrPaths } from './config';
import type { OsUser } from './os-user';

export interface PgbackrestOptions {
  paths: PitrPaths;
  source: string;
  user: OsUser;
  env: NodeJS.ProcessEnv;
  /** The database password, when pgBackRest connects (stanza-create, check, backup). */
  pgPassword?: string;
  /** A cipher passphrase that is not in the configuration (a restore on a host that lost it). */
  cipherPass?: string;
  signal?: AbortSignal;
  /** Progress lines (pgBackRest's info log) go here on a terminal. */
  progress?: Output;
  /** Called with the child's pid as soon as it runs (drills hand it to their watchdog). */
  onSpawn?: (pid: number) => void;
  binary?: string;
}

export interface PgbackrestResult {
  stdout: string;
  stderr: string;
}

/** The environment pgBackRest gets: enough to find programs, English messages, and only our secrets. */
export function pgbackrestEnv(opts: Pick<PgbackrestOptions, 'env' | 'pgPassword' | 'cipherPass'>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: opts.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LC_ALL: 'C', LANG: 'C', TZ: 'UTC' };
  if (opts.pgPassword !== undefined) env.PGPASSWORD = opts.pgPassword;
  if (opts.cipherPass !== undefined) env.PGBACKREST_REPO1_CIPHER_PASS = opts.cipherPass;
  return env;
}

export async function runPgbackrest(command: string, args: readonly string[], opts: PgbackrestOptions): Promise<PgbackrestResult> {
  const binary = opts.binary ?? 'pgbackrest';
  const showProgress = !!opts.progress?.isTTY;
  const argv = [...configArgs(opts.paths, opts.source), ...(showProgress ? ['--log-level-console=info'] : []), ...args, command];
  return new Promise((resolve, reject) => {
    opts.signal?.throwIfAborted();
    const child = spawn(binary, argv, { cwd: '/', env: pgbackrestEnv(opts), stdio: ['ignore', 'pipe', 'pipe'], ...opts.user.spawnIds() });
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      stdout += s;
      if (showProgress) opts.progress!.write(redact(s));
    });
    child.stderr.on('data', (s: string) => {
      stderr = (stderr + s).slice(-64 * 1024);
    });
    const onAbort = (): void => void child.kill('SIGTERM');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (e) => {
      opts.signal?.removeEventListener('abort', onAbort);
      const code = (e as NodeJS.ErrnoException).code;
      reject(
        code === 'ENOENT'
          ? usageError('tool_missing', `${binary} is not installed (PITR for self-hosted PostgreSQL runs on pgBackRest)`, 'Install it with "apt-get install -y pgbackrest"')
          : runtimeError('pgbackrest_failed', `pgbackrest ${command} could not be started (${code ?? e.message})`),
      );
    });
    child.once('close', (code, signal) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (opts.signal?.aborted) return reject(opts.signal.reason instanceof Error ? opts.signal.reason : new Error('aborted'));
      if (code === 0) return resolve({ stdout, stderr });
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      reject(runtimeError('pgbackrest_failed', redact(`pgbackrest ${command} ${how}: ${errorLines(stderr + '\n' + stdout)}`)));
    });
  });
}

/** pgBackRest's "ERROR: [055]: message" lines (and their HINTs), joined; else the last lines of its output. */
export function errorLines(text: string): string {
  const lines = text.split('\n').map((l) => l.replace(/^\S+ \S+ P\d+ +/, '').trim()).filter(Boolean);
  const picked = lines.filter((l) => /^(ERROR|HINT|WARN)/.test(l) || /^\w+Error:/.test(l));
  return (picked.length ? picked : lines.slice(-3)).slice(0, 6).join(' | ') || 'no output';
}

/** The parts of `pgbackrest info --output=json` Lifeboat reads. */
export interface PgbackrestBackup {
  label: string;
  type: 'full' | 'diff' | 'incr';
  startedAt: Date;
  stoppedAt: Date;
  archiveStart: string | null;
  archiveStop: string | null;
  /** Database size, and the size stored in the repository (compressed, maybe encrypted). */
  bytes: number;
  repoBytes: number;
}

export interface StanzaInfo {
  name: string;
  status: { code: number; message: string };
  cipher: string;
  backups: PgbackrestBackup[];
  /** The WAL range in the archive (of the current database version). */
  archiveMin: string | null;
  archiveMax: string | null;
}

interface RawInfo {
  name: string;
  status: { code: number; message: string };
  cipher?: string;
  archive?: { min?: string | null; max?: string | null }[];
  backup?: {
    label: string;
    type: 'full' | 'diff' | 'incr';
    timestamp: { start: number; stop: number };
    archive?: { start?: string | null; stop?: string | null };
    info?: { size?: number; repository?: { delta?: number; size?: number } };
  }[];
}

export function parseInfo(json: string, stanza: string): StanzaInfo {
  let all: RawInfo[];
  try {
    all = JSON.parse(json) as RawInfo[];
  } catch {
    throw runtimeError('pgbackrest_info_invalid', 'pgbackrest info did not print JSON');
  }
  const s = all.find((x) => x.name === stanza);
  if (!s) throw runtimeError('pgbackrest_info_invalid', `pgbackrest info knows no stanza "${stanza}"`);
  const archive = s.archive?.[s.archive.length - 1];
  return {
    name: s.name,
    status: s.status,
    cipher: s.cipher ?? 'none',
    archiveMin: archive?.min ?? null,
    archiveMax: archive?.max ?? null,
    backups: (s.backup ?? []).map((b) => ({
      label: b.label,
      type: b.type,
      startedAt: new Date(b.timestamp.start * 1000),
      stoppedAt: new Date(b.timestamp.stop * 1000),
      archiveStart: b.archive?.start ?? null,
      archiveStop: b.archive?.stop ?? null,
      bytes: b.info?.size ?? 0,
      repoBytes: b.info?.repository?.size ?? 0,
    })),
  };
}

export async function stanzaInfo(opts: PgbackrestOptions): Promise<StanzaInfo> {
  const r = await runPgbackrest('info', ['--output=json'], { ...opts, progress: undefined });
  return parseInfo(r.stdout, opts.source);
}
