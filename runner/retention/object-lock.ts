/**
 * The lock a backup's objects get: its class's retention, counted from the run's start.
 *
 * The class is chosen before anything is uploaded (runner/retention/classify.ts, from the calendar and the
 * backups already stored) and is fixed by the backup's place in the layout (`<class>/...`): a backup never
 * changes class afterwards, so the lock can be set once, at upload, for the class it holds for its whole life.
 *
 * Why the run's start: the bucket's lifecycle rule for the class deletes an object once it is `days` old counted
 * from its creation, which is at or after the run's start. Locking until start + days therefore never outlasts
 * the lifecycle rule (a locked object the rule cannot delete would linger, billed, until the next day's pass),
 * and every object of one backup (payload, globals, manifest) shares one retain-until, so a backup is never half
 * deletable. The bucket's own minimum (the stacks' default retention or retention policy) stays underneath as a
 * floor for anything written without a lock (drill reports).
 */
import type { BackupClass } from '../contract/layout';
import type { ObjectLockMode, RetentionDays } from '../contract/object-lock';
import { lockRefused } from '../storage/local';
import type { ObjectRetention, Storage } from '../storage/types';

/** What the backup commands are given: the mode, and the days per class. */
export interface ObjectLockPolicy {
  mode: ObjectLockMode;
  days: RetentionDays;
}

const DAY_MS = 86_400_000;

/** Refuses (exit 2) a lock on storage that cannot hold one, before any work is done. */
export function checkLockable(policy: ObjectLockPolicy | undefined, storage: Storage): void {
  if (policy && !storage.objectLock) throw lockRefused(storage.url);
}

/** The retention of every object of a backup of class `cls` whose run started at `startedAt`. */
export function backupRetention(policy: ObjectLockPolicy | undefined, cls: BackupClass, startedAt: Date): ObjectRetention | undefined {
  if (!policy) return undefined;
  return { mode: policy.mode, retainUntil: new Date(startedAt.getTime() + policy.days[cls] * DAY_MS) };
}
