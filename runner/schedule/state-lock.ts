/**
 * One scheduler per state file. Two daemons reading one schedule (compose `--scale lifeboat=2`, a unit started
 * twice, a second container on the same volume) would each run every job: twice the load on the database, and
 * runs of one job overlapping after all. The lock is a lease, not a pid file: proper-lockfile makes a
 * `<state file>.lock` directory (mkdir is atomic, also on a volume shared between containers) and refreshes its
 * mtime while the daemon lives. A daemon killed with SIGKILL stops refreshing, so after `staleMs` its lease is
 * free again; a pid file would instead misfire after a restart that reuses the pid, or in another container's
 * pid namespace.
 */
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { runtimeError } from '../errors';

export interface StateLock {
  /** Gives the lease back (at stop). */
  release(): Promise<void>;
}

export interface StateLockOptions {
  /** How long a lease that is no longer refreshed holds; refreshed at a third of it. */
  staleMs?: number;
  /** Called when the lease was lost while running (the lock directory removed or taken over). */
  onLost: (why: Error) => void;
}

export const DEFAULT_LEASE_MS = 60_000;

/** Takes the lease on `stateFile`, or fails naming the lock and when it frees itself if its holder is dead. */
export async function lockStateFile(stateFile: string, opts: StateLockOptions): Promise<StateLock> {
  const staleMs = opts.staleMs ?? DEFAULT_LEASE_MS;
  const lockPath = `${stateFile}.lock`;
  mkdirSync(path.dirname(stateFile), { recursive: true });
  try {
    const release = await lockfile.lock(stateFile, {
      // The state file may not exist yet (first start); the lock names the path, not the file's inode.
      realpath: false,
      lockfilePath: lockPath,
      stale: staleMs,
      update: Math.max(1000, Math.floor(staleMs / 3)),
      retries: 0,
      onCompromised: opts.onLost,
    });
    return { release: () => release().catch(() => undefined) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') {
      throw runtimeError('schedule_state_unlockable', `the schedule state file's lock ${lockPath}: ${(e as Error).message}`);
    }
    const age = lockAgeSeconds(lockPath);
    throw runtimeError(
      'schedule_locked',
      `another scheduler holds ${lockPath}${age === undefined ? '' : ` (refreshed ${age}s ago)`}: two daemons on one state file would run every job twice`,
      `stop the other daemon, or give this one its own stateFile; a lease whose daemon died frees itself ${Math.round(staleMs / 1000)}s after its last refresh`,
    );
  }
}

function lockAgeSeconds(lockPath: string): number | undefined {
  try {
    // proper-lockfile may stamp the lock slightly ahead of this clock; an age is never negative.
    return Math.max(0, Math.round((Date.now() - statSync(lockPath).mtimeMs) / 1000));
  } catch {
    return undefined;
  }
}
