/**
 * Bucket lifecycle rules computed from the storage layout (runner/contract/layout.ts): one Delete rule per class
 * prefix, so grandfather-father-son retention needs no identity with a delete permission (the runner that writes
 * backups cannot destroy them), cheaper storage classes as long-kept objects age, and cleanup of abandoned multipart
 * uploads.
 */
import { BACKUP_CLASSES, DRILLS_PREFIX, classPrefix, type BackupClass } from '../../runner/contract/layout';

export interface LifecycleRule {
  action: { type: 'Delete' | 'SetStorageClass' | 'AbortIncompleteMultipartUpload'; storageClass?: string };
  condition: { age?: number; matchesPrefixes?: string[]; matchesStorageClasses?: string[]; daysSinceNoncurrentTime?: number };
}

/** Days a replaced or deleted object's old version is kept in a versioned (ephemeral) bucket. */
export const NONCURRENT_DAYS = 7;

/**
 * Versioned buckets (ephemeral stacks: no retention policy, versioning instead) keep every version a Delete rule
 * or an overwrite leaves behind; without this rule they would pile up, billed, for the life of the stack.
 */
export function noncurrentCleanupRule(days = NONCURRENT_DAYS): LifecycleRule {
  return { action: { type: 'Delete' }, condition: { daysSinceNoncurrentTime: days } };
}

/**
 * Colder classes and their minimum storage duration in days (deleting earlier is billed as if kept that long).
 * A transition is only worth it when the object then stays at least that long before its Delete rule.
 */
export const COLDER_CLASSES: ReadonlyArray<{ storageClass: string; afterDays: number; minimumDays: number }> = [
  { storageClass: 'NEARLINE', afterDays: 30, minimumDays: 30 },
  { storageClass: 'COLDLINE', afterDays: 90, minimumDays: 90 },
  { storageClass: 'ARCHIVE', afterDays: 365, minimumDays: 365 },
];

/** Storage classes an object of a class kept `retentionDays` moves through: [{ storageClass, afterDays }]. */
export function storageClassSteps(retentionDays: number): Array<{ storageClass: string; afterDays: number }> {
  return COLDER_CLASSES.filter((c) => c.afterDays + c.minimumDays <= retentionDays).map(({ storageClass, afterDays }) => ({ storageClass, afterDays }));
}

/** `<root>/<prefix>` with no leading slash; root "" means the bucket's top level. */
export function rooted(root: string, prefix: string): string {
  return root ? `${root.replace(/\/+$/, '')}/${prefix}` : prefix;
}

export interface LifecycleInput {
  retentionDays: Record<BackupClass, number>;
  drillReportRetentionDays: number;
  /** Storage root inside the bucket (`lifeboat:storageRoot`). */
  root: string;
  /** Storage class new objects are written in (the bucket's default). */
  baseStorageClass?: string;
}

export function lifecycleRules(input: LifecycleInput): LifecycleRule[] {
  const base = input.baseStorageClass ?? 'STANDARD';
  const rules: LifecycleRule[] = [];
  for (const cls of BACKUP_CLASSES) {
    const prefix = rooted(input.root, classPrefix(cls));
    const days = input.retentionDays[cls];
    rules.push({ action: { type: 'Delete' }, condition: { age: days, matchesPrefixes: [prefix] } });
    let from = base;
    for (const step of storageClassSteps(days)) {
      rules.push({
        action: { type: 'SetStorageClass', storageClass: step.storageClass },
        condition: { age: step.afterDays, matchesPrefixes: [prefix], matchesStorageClasses: [from] },
      });
      from = step.storageClass;
    }
  }
  rules.push({ action: { type: 'Delete' }, condition: { age: input.drillReportRetentionDays, matchesPrefixes: [rooted(input.root, `${DRILLS_PREFIX}/`)] } });
  // Multipart (XML API) uploads the runner abandoned (a killed job) hold storage until aborted.
  rules.push({ action: { type: 'AbortIncompleteMultipartUpload' }, condition: { age: 1 } });
  return rules;
}

/** The bucket retention period in seconds, as the provider takes it (a string). */
export function retentionPeriodSeconds(days: number): string {
  return String(days * 86_400);
}
