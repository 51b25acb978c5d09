/**
 * S3 lifecycle rules for a backup bucket, computed from the storage layout (runner/contract/layout.ts).
 *
 * Retention is one rule per class prefix (grandfather-father-son with no identity holding a delete permission), plus
 * drill reports, plus a whole-bucket cleanup rule. The bucket is versioned (replication and Object Lock need it), so
 * expiring a current version only leaves a delete marker: each class rule also expires noncurrent versions after a
 * grace period (which doubles as the window in which an overwritten object can still be recovered), and the cleanup
 * rule removes the delete markers left behind.
 */
import { BACKUP_CLASSES, DRILLS_PREFIX, classPrefix, type BackupClass } from '../../runner/contract/layout';

/** Days a noncurrent (overwritten or expired) version stays recoverable before lifecycle removes it. */
export const NONCURRENT_GRACE_DAYS = 7;
/** Incomplete multipart uploads (a runner killed mid-upload) are aborted after this many days. */
export const ABORT_INCOMPLETE_UPLOAD_DAYS = 1;

/** One step down the storage-class ladder as objects age. */
export interface StorageTransition {
  days: number;
  storageClass: 'STANDARD_IA' | 'GLACIER_IR';
}

/**
 * Cheaper storage classes for long-lived classes only. STANDARD_IA bills at least 30 days and GLACIER_IR at least 90,
 * so a transition only pays off when the object lives well past that; both keep millisecond reads, so restores keep
 * their RTO (GLACIER and DEEP_ARCHIVE would add hours of thaw time to a restore, which is why they are not used).
 */
export function transitionsFor(retentionDays: number): StorageTransition[] {
  const out: StorageTransition[] = [];
  if (retentionDays >= 90) out.push({ days: 30, storageClass: 'STANDARD_IA' });
  if (retentionDays >= 270) out.push({ days: 90, storageClass: 'GLACIER_IR' });
  return out;
}

/** A rule in the shape of `aws.s3.BucketLifecycleConfiguration`'s `rules` input (plain values, no Outputs). */
export interface S3LifecycleRule {
  id: string;
  status: 'Enabled';
  filter: { prefix: string };
  expiration?: { days?: number; expiredObjectDeleteMarker?: boolean };
  noncurrentVersionExpiration?: { noncurrentDays: number };
  abortIncompleteMultipartUpload?: { daysAfterInitiation: number };
  transitions?: StorageTransition[];
}

export interface LifecycleInput {
  /** Retention in days per backup class; every class must be present. */
  retentionDays: Record<BackupClass, number>;
  /** Days drill reports are kept (audit evidence that restores were proven). */
  drillReportDays: number;
  /** Storage root inside the bucket ('' or e.g. 'prod/'), the path part of the runner's s3:// URL. */
  rootPrefix?: string;
}

/** Normalises a root prefix to '' or 'a/b/' so rule prefixes match the runner's keys exactly. */
export function normaliseRootPrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  return trimmed ? `${trimmed}/` : '';
}

export function s3LifecycleRules(input: LifecycleInput): S3LifecycleRule[] {
  const root = normaliseRootPrefix(input.rootPrefix);
  const rules: S3LifecycleRule[] = BACKUP_CLASSES.map((cls) => {
    const days = input.retentionDays[cls];
    if (!Number.isInteger(days) || days < 1) {
      throw new Error(`retention days for class "${cls}": expected a positive integer, got ${JSON.stringify(days)}`);
    }
    const transitions = transitionsFor(days);
    return {
      id: `expire-${cls}`,
      status: 'Enabled' as const,
      filter: { prefix: root + classPrefix(cls) },
      expiration: { days },
      noncurrentVersionExpiration: { noncurrentDays: NONCURRENT_GRACE_DAYS },
      ...(transitions.length ? { transitions } : {}),
    };
  });
  if (!Number.isInteger(input.drillReportDays) || input.drillReportDays < 1) {
    throw new Error(`drill report days: expected a positive integer, got ${JSON.stringify(input.drillReportDays)}`);
  }
  rules.push({
    id: 'expire-drill-reports',
    status: 'Enabled',
    filter: { prefix: `${root}${DRILLS_PREFIX}/` },
    expiration: { days: input.drillReportDays },
    noncurrentVersionExpiration: { noncurrentDays: NONCURRENT_GRACE_DAYS },
  });
  rules.push({
    id: 'cleanup',
    status: 'Enabled',
    filter: { prefix: root },
    expiration: { expiredObjectDeleteMarker: true },
    abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_INCOMPLETE_UPLOAD_DAYS },
  });
  return rules;
}

/**
 * Object Lock default retention: the shortest class retention, so no class outlives its lifecycle rule because of the
 * lock (a locked version cannot be removed before its retain-until date, whatever lifecycle says).
 */
export function defaultLockDays(retentionDays: Record<BackupClass, number>): number {
  return Math.min(...BACKUP_CLASSES.map((c) => retentionDays[c]));
}
