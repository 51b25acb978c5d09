/**
 * Child processes of the pipelines (pg_dump, pg_restore, zstd): a Spawner that tests can replace, and
 * `watchChild`, which collects a bounded tail of stderr and resolves with how the process ended. A child's
 * exit status is the only authority on whether its work succeeded: a stream that ended is not a success.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Writable } from 'node:stream';

export type Spawner = (file: string, args: readonly string[], opts: SpawnOptions) => ChildProcess;

/** Children die with the runner, however it dies (dyingWithRunner): a pg_restore must not go on loading alone. */
export const defaultSpawner: Spawner = (file, args, opts) => {
  const [cmd, argv] = dyingWithRunner(file, args);
  return spawn(cmd, argv, opts);
};

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null;

/**
 * The command line that runs `file` so that the kernel kills it when the runner dies, however it dies (SIGKILL:
 * an out-of-memory kill, a job deadline), where no cleanup code of ours can run. For helpers that would
 * otherwise live on holding a whole dataset (a scratch redis-server). Linux's PR_SET_PDEATHSIG through
 * util-linux's setpriv, which then execs the program (same pid); elsewhere, or without setpriv, unchanged.
 */
export function dyingWithRunner(file: string, args: readonly string[]): [string, string[]] {
  if (process.platform !== 'linux' || SETPRIV === null) return [file, [...args]];
  return [SETPRIV, ['--pdeathsig', 'KILL', '--', file, ...args]];
}

export interface ChildResult {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last STDERR_TAIL bytes of stderr. */
  stderr: string;
  /** The child could not be started at all (ENOENT, EACCES). */
  spawnError?: Error;
}

const STDERR_TAIL = 64 * 1024;

export interface WatchedChild {
  child: ChildProcess;
  done: Promise<ChildResult>;
  /** Sends SIGTERM now and SIGKILL after a grace period, if still running. */
  kill(): void;
}

export function watchChild(name: string, child: ChildProcess, onStderrLine?: (line: string) => void): WatchedChild {
  let stderr = '';
  let partial = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    stderr = (stderr + s).slice(-STDERR_TAIL);
    if (onStderrLine) {
      const lines = (partial + s).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) onStderrLine(l);
    }
  });
  let exited = false;
  const done = new Promise<ChildResult>((resolve) => {
    let spawnError: Error | undefined;
    child.once('error', (e) => {
      spawnError = e;
      // 'close' may never come when spawning failed.
      if (child.pid === undefined) {
        exited = true;
        resolve({ name, code: null, signal: null, stderr, spawnError });
      }
    });
    child.once('close', (code, signal) => {
      exited = true;
      if (partial.trim() && onStderrLine) onStderrLine(partial);
      resolve({ name, code, signal, stderr, spawnError });
    });
  });
  return {
    child,
    done,
    kill() {
      if (exited || child.pid === undefined) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, 3000);
      t.unref();
    },
  };
}

/** True when the child exited 0 and wrote no "<tool>: error" line (pg_dump/pg_restore report errors so). */
export function childSucceeded(r: ChildResult): boolean {
  if (r.spawnError || r.code !== 0) return false;
  return !/^\S+: error:/m.test(r.stderr);
}

/** One line describing how a child failed, for error messages. */
export function describeChildFailure(r: ChildResult): string {
  if (r.spawnError) return `${r.name} could not be started (${(r.spawnError as NodeJS.ErrnoException).code ?? r.spawnError.message})`;
  const how = r.signal ? `was killed by ${r.signal}` : `exited with code ${r.code}`;
  const errLine = r.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /error|fatal|FATAL|ERROR/.test(l))
    .slice(0, 3)
    .join(' | ');
  const tail = errLine || r.stderr.trim().split('\n').slice(-2).join(' | ');
  return `${r.name} ${how}${tail ? `: ${tail}` : ''}`;
}

/**
 * Resolves when a child's stdin that refused a write can take more ('drain'), or is gone ('close': the child
 * exited, and its exit status says whether that was fine). Never rejects: EPIPE is the child's to report.
 */
export function drainOrClose(stdin: Writable): Promise<void> {
  return new Promise((resolve) => {
    const go = (): void => {
      stdin.off('drain', go);
      stdin.off('close', go);
      resolve();
    };
    stdin.on('drain', go);
    stdin.on('close', go);
  });
}
