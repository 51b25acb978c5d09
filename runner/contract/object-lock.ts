/**
 * Per-object retention (S3 Object Lock, GCS object retention): the runner locks every object of a backup for its
 * own class's retention, so a yearly backup cannot be deleted after the bucket's floor (the shortest class) runs
 * out. The two variables are the contract between the stacks, which set them on the backup jobs from the stack's
 * `lifeboat:retentionDays`, and the runner, which reads them at upload (runner/retention/object-lock.ts).
 *
 *   LIFEBOAT_OBJECT_LOCK      governance | compliance; unset or empty: no per-object lock (the bucket's own
 *                             default retention, if any, still applies)
 *   LIFEBOAT_RETENTION_DAYS   daily=7,weekly=35,monthly=400,yearly=2557,manual=90; a class left out keeps its
 *                             default (DEFAULT_RETENTION_DAYS), so a hand-set `yearly=3650` changes one class only
 */
import { usageError } from '../errors';
import { BACKUP_CLASSES, DEFAULT_RETENTION_DAYS, type BackupClass } from './layout';

export const OBJECT_LOCK_MODES = ['governance', 'compliance'] as const;
export type ObjectLockMode = (typeof OBJECT_LOCK_MODES)[number];

export const OBJECT_LOCK_ENV = 'LIFEBOAT_OBJECT_LOCK';
export const RETENTION_DAYS_ENV = 'LIFEBOAT_RETENTION_DAYS';

/** The longest retention a class may be given: 100 years, the longest retain-until GCS and S3 accept. */
export const MAX_RETENTION_DAYS = 36_500;

export type RetentionDays = Record<BackupClass, number>;

/** `daily=7,weekly=35,...` in the classes' order: what the stacks set. */
export function formatRetentionDays(days: RetentionDays): string {
  return BACKUP_CLASSES.map((c) => `${c}=${days[c]}`).join(',');
}

/**
 * Parses LIFEBOAT_RETENTION_DAYS; classes not named keep their default. Bad input: a usage error (exit 2) that
 * names `label` (the variable, or the flag and the variable).
 */
export function parseRetentionDays(raw: string | undefined, label: string = RETENTION_DAYS_ENV): RetentionDays {
  const days: RetentionDays = { ...DEFAULT_RETENTION_DAYS };
  if (raw === undefined || raw.trim() === '') return days;
  const expected = `expected comma-separated CLASS=DAYS pairs (classes ${BACKUP_CLASSES.join(', ')}; days a whole number from 1 to ${MAX_RETENTION_DAYS}), e.g. "${formatRetentionDays(DEFAULT_RETENTION_DAYS)}"`;
  const seen = new Set<string>();
  for (const part of raw.split(',')) {
    const m = /^\s*([a-z]+)\s*=\s*(\d+)\s*$/.exec(part);
    const bad = (why: string): Error => usageError('retention_days_invalid', `${label} ${expected}, got ${JSON.stringify(raw)} (${why})`);
    if (!m) throw bad(`${JSON.stringify(part.trim())} is not CLASS=DAYS`);
    const [, cls, value] = m as unknown as [string, string, string];
    if (!(BACKUP_CLASSES as readonly string[]).includes(cls)) throw bad(`unknown class ${JSON.stringify(cls)}`);
    if (seen.has(cls)) throw bad(`${cls} given twice`);
    seen.add(cls);
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1 || n > MAX_RETENTION_DAYS) throw bad(`${cls}=${value} is out of range`);
    days[cls as BackupClass] = n;
  }
  return days;
}

/** Parses LIFEBOAT_OBJECT_LOCK: a mode, or undefined (unset or empty) for no per-object lock. */
export function parseObjectLockMode(raw: string | undefined, label: string = OBJECT_LOCK_ENV): ObjectLockMode | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const mode = raw.trim().toLowerCase();
  if (!(OBJECT_LOCK_MODES as readonly string[]).includes(mode)) {
    throw usageError(
      'object_lock_invalid',
      `${label} expected ${OBJECT_LOCK_MODES.join(' or ')} (or unset for no per-object lock), got ${JSON.stringify(raw)}`,
    );
  }
  return mode as ObjectLockMode;
}
