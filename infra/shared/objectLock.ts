/**
 * The per-object lock the backup tasks ask the runner for (runner/contract/object-lock.ts), from the stack's
 * retention config: every backup is locked for its own class's `lifeboat:retentionDays`, on top of the bucket's
 * minimum (GCS retention policy, S3 Object Lock default retention), which stays as the floor for anything else.
 *
 * The mode follows the bucket's: a stack with `retentionLocked` locks objects in compliance mode (on AWS, the
 * configured `objectLockMode`), which nobody can shorten; otherwise governance, which an administrator allowed to
 * bypass it can lift (the per-object twin of an unlocked retention policy). Ephemeral stacks lock nothing: their
 * buckets are destroyed with the stack.
 */
import { ENV } from '../../runner/contract/env';
import { formatRetentionDays, type ObjectLockMode, type RetentionDays } from '../../runner/contract/object-lock';

export interface ObjectLockInput {
  ephemeral: boolean;
  retentionLocked: boolean;
  retentionDays: RetentionDays;
  /** The mode of a locked stack. Default: compliance. */
  lockedMode?: ObjectLockMode;
}

/** The variables set on every backup task (`backup`, `redis backup`); none in an ephemeral stack. */
export function objectLockEnv(input: ObjectLockInput): Record<string, string> {
  if (input.ephemeral) return {};
  const mode: ObjectLockMode = input.retentionLocked ? (input.lockedMode ?? 'compliance') : 'governance';
  return { [ENV.objectLock]: mode, [ENV.retentionDays]: formatRetentionDays(input.retentionDays) };
}
