/**
 * Point-in-time recovery of managed databases (RDS, Cloud SQL): what both clouds have in common. The cloud does
 * the recovery; Lifeboat checks the target against the recoverable window before asking, creates a new
 * instance (never touching the source), waits for it with progress, and names drill clones so that a drill that
 * was killed can be recognised and cleaned up by the next one.
 *
 * runner/pitr/rds.ts and runner/pitr/cloudsql.ts implement ManagedPitrProvider over the clouds' official clients.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunContext } from '../context';
import { runtimeError, usageError } from '../errors';

export type ManagedKind = 'rds' | 'cloudsql';

export interface RecoveryWindow {
  earliest: Date;
  latest: Date;
  /** False when the cloud did not say and `latest` is simply now (then no RPO can be measured). */
  latestReported: boolean;
  /** Where the bounds come from, for messages ("automated backups", "transaction log retention (7 days)", ...). */
  basis: string;
}

export interface ManagedEndpoint {
  host: string;
  port: number;
}

export interface ManagedInstance {
  name: string;
  /** The cloud's own word: RDS "creating", "available"; Cloud SQL "PENDING_CREATE", "RUNNABLE". */
  status: string;
  endpoint: ManagedEndpoint | null;
  /** Tags (RDS) or user labels (Cloud SQL). */
  labels: Record<string, string>;
}

export interface ManagedSource {
  /** "RDS instance shop", "Cloud SQL instance acme:shop". */
  label: string;
  instance: ManagedInstance;
  window: RecoveryWindow;
  /** The settings a restored copy takes over from the source, as the report shows them. */
  carried: Record<string, unknown>;
}

export interface CloneProgress {
  /** Called with each new status while waiting. */
  onStatus?: (status: string, elapsedSeconds: number) => void;
  signal: AbortSignal;
  deadline: number;
  pollMs: number;
}

export interface ManagedPitrProvider {
  kind: ManagedKind;
  /** The source as the user named it: the RDS identifier, or PROJECT:INSTANCE. */
  sourceName: string;
  describeSource(now: Date): Promise<ManagedSource>;
  /** The instance by name, or null when there is none. */
  find(name: string): Promise<ManagedInstance | null>;
  /** Asks the cloud for a copy of the source at `target`, named `name`, carrying `labels`. Returns at once. */
  startClone(name: string, target: Date, source: ManagedSource, labels: Record<string, string>): Promise<void>;
  /** Waits until the copy is ready to serve and returns it with its endpoint. */
  waitReady(name: string, progress: CloneProgress): Promise<ManagedInstance>;
  /** Deletes an instance Lifeboat made (no final snapshot or backup), and waits until it is going. */
  deleteInstance(name: string): Promise<void>;
  /** Instances whose name starts with `prefix` (drill clones), with their labels. */
  listByPrefix(prefix: string): Promise<ManagedInstance[]>;
}

/** The tag or label every drill clone carries (value: the source), with the name prefix below. */
export const DRILL_LABEL = 'lifeboat-drill';
export const DRILL_NAME_PREFIX = 'lifeboat-drill-';
/** The tag or label every instance `pitr restore` makes carries. */
export const MADE_BY_LABEL = 'made-by';
export const MADE_BY_VALUE = 'lifeboat';
/** What a restored copy is a copy of, and of when (labels on it, for whoever finds it later). */
export const RESTORE_OF_LABEL = 'lifeboat-restore-of';
export const RESTORE_TO_LABEL = 'lifeboat-restore-to';

/**
 * Refuses a target outside the window before anything is asked of the cloud, naming the window: during an
 * incident a clear "the window is 09:02 to 14:55" beats an API error after a minute of waiting.
 */
export function checkTargetInWindow(target: Date, window: RecoveryWindow, flag: string, label: string): void {
  if (target >= window.earliest && target <= window.latest) return;
  const side = target < window.earliest ? 'before' : 'after';
  throw usageError(
    'target_time_outside_window',
    `${flag} ${target.toISOString()} is ${side} the recoverable window of ${label}, which is ${window.earliest.toISOString()} to ${window.latest.toISOString()} (${window.basis})`,
  );
}

/**
 * The name of a drill clone: the prefix, the source (made safe for both clouds: lowercase letters, digits and
 * single hyphens, starting with a letter) and the run's start to the second, so that a leftover's age is in
 * its name even when the cloud could not label it yet (a Cloud SQL clone is labelled after it exists).
 */
export function drillCloneName(source: string, startedAt: Date): string {
  const stamp = startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'z').toLowerCase(); // 20261207t143100z
  let safe = source.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  const room = 63 - DRILL_NAME_PREFIX.length - stamp.length - 1;
  safe = safe.slice(0, room).replace(/-+$/, '') || 'db';
  return `${DRILL_NAME_PREFIX}${safe}-${stamp}`;
}

/** When a drill clone's run started, read back from its name; null for a name this runner did not make. */
export function drillCloneStartedAt(name: string): Date | null {
  if (!name.startsWith(DRILL_NAME_PREFIX)) return null;
  const m = /-(\d{4})(\d\d)(\d\d)t(\d\d)(\d\d)(\d\d)z$/.exec(name);
  if (!m) return null;
  const t = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isFinite(t) ? new Date(t) : null;
}

/**
 * Polls the cloud until `ready` says so, reporting each new status, bounded by the deadline and the run's
 * signal. `failed` names statuses from which an instance never becomes ready.
 */
export async function pollUntil<T>(
  what: string,
  read: () => Promise<T>,
  state: (v: T) => { ready: boolean; status: string; failed?: string | null },
  progress: CloneProgress,
): Promise<T> {
  const started = Date.now();
  let last = '';
  for (;;) {
    progress.signal.throwIfAborted();
    const v = await read();
    const s = state(v);
    const elapsed = Math.round((Date.now() - started) / 1000);
    if (s.status !== last) {
      last = s.status;
      progress.onStatus?.(s.status, elapsed);
    }
    if (s.failed) throw runtimeError('managed_clone_failed', `${what} failed: ${s.failed}`);
    if (s.ready) return v;
    if (Date.now() + progress.pollMs > progress.deadline) {
      throw runtimeError('managed_clone_timeout', `${what} was still "${s.status}" when the --timeout ran out (after ${elapsed}s)`, 'It goes on in the cloud: check it there, or give a longer --timeout');
    }
    await sleep(progress.pollMs, undefined, { signal: progress.signal }).catch(() => undefined);
  }
}

/** Progress of a wait: a line per status on a terminal, a JSON log line per status off one. */
export function statusReporter(ctx: RunContext, name: string): (status: string, elapsedSeconds: number) => void {
  return (status, elapsedSeconds) => {
    if (ctx.stderr.isTTY) ctx.stderr.write(`waiting for ${name}: ${status} (${elapsedSeconds}s)\n`);
    else ctx.logger.info({ instance: name, status, elapsedSeconds }, `waiting for ${name}: ${status}`);
  };
}

/** Default poll interval against the clouds' APIs (their quotas are generous, their instances slow). */
export const DEFAULT_POLL_MS = 15_000;
