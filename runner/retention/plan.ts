/**
 * Prune planning: which backups to keep and which to delete, with the reason for each. Pure: it sees only
 * descriptions of backups and the clock, and deletes nothing (runner/retention/apply.ts does that), so the
 * rule is tested on simulated calendars without any storage.
 *
 * How the counts map onto the cloud's lifecycle rules. In a bucket, each class prefix has an age rule
 * (DEFAULT_RETENTION_DAYS: daily 7, weekly 35, monthly 400, yearly 2557 days, manual 90). Prune expresses the same
 * grandfather-father-son shape as a number of periods per class: `--keep-daily 7` keeps the daily backups of the
 * newest 7 days that have one (every daily backup of those days, however many runs a day the schedule makes),
 * `--keep-weekly 4` those of the newest 4 ISO weeks, `--keep-monthly 12` of 12 months, `--keep-yearly 7` of 7
 * years (the classic GFS defaults; the lifecycle ages carry one period of slack on top because they delete by age,
 * blind to whether a newer backup arrived). With one run a day this is one backup per period, like the buckets.
 * Counting periods that hold a backup instead of calendar days is the safer reading where a process, not a bucket,
 * deletes: when the schedule stops (a broken job, a paused project), an age rule would eventually delete every
 * backup, while this keeps the newest N periods' backups of each class forever. Manual backups have no period, so
 * they keep the age rule (`--keep-manual-days 90`).
 *
 * On top of the class rule, for every source (engine + source name):
 * - the newest complete backup is never deleted, whatever its class or age, nor the newest full one (a newer
 *   schema-only or --table backup restores no data);
 * - incomplete backups (a payload without manifest: a failed or still-running backup) younger than a day are
 *   left alone, as they may be running; older ones are leftovers and go;
 * - a backup whose manifest exists but cannot be read (written by a newer runner, or damaged) is never deleted;
 * - temporary files of interrupted writes (local storage's `.partial` files) follow the same one-day rule;
 * - a backup whose manifest records an object lock that has not run out is kept (the store would refuse the
 *   delete), whatever the class rule says; it goes on the first prune after its retain-until.
 */
import { BACKUP_CLASSES, type BackupClass, type Engine } from '../contract/layout';
import { usageError } from '../errors';
import { periodKey } from './classify';

export interface RetentionPolicy {
  keepDaily: number;
  keepWeekly: number;
  keepMonthly: number;
  keepYearly: number;
  keepManualDays: number;
}

export const DEFAULT_POLICY: RetentionPolicy = {
  keepDaily: 7,
  keepWeekly: 4,
  keepMonthly: 12,
  keepYearly: 7,
  keepManualDays: 90,
};

/** Incomplete backups and partial files younger than this may belong to a backup still running. */
export const INCOMPLETE_GRACE_MS = 24 * 3600 * 1000;

export interface CompleteItem {
  kind: 'complete';
  cls: BackupClass;
  engine: Engine;
  source: string;
  id: string;
  /** When the backup's snapshot was taken (its age for the manual rule). */
  at: Date;
  /** The manifest's kind (full, schema, data, tables), when known. */
  backupKind?: string;
  /** Its objects' lock (the manifest's `lock.retainUntil`): a delete before then would be refused. */
  lockedUntil?: Date;
}

export interface IncompleteItem {
  kind: 'incomplete';
  cls: BackupClass;
  engine: Engine;
  source: string;
  id: string;
  /** Newest write among its objects. */
  lastModified: Date;
  /** Why it is incomplete (from the catalog). */
  why: string;
  /**
   * It has a manifest this runner cannot read (a newer format version, or damaged): it may be a complete backup
   * written by a newer runner, so prune never deletes it; a person decides.
   */
  unreadableManifest?: boolean;
}

export interface PartialItem {
  kind: 'partial';
  /** Path of the leftover temporary file. */
  file: string;
  lastModified: Date;
}

export type PruneItem = CompleteItem | IncompleteItem | PartialItem;

export interface PruneDecision<T extends PruneItem = PruneItem> {
  item: T;
  action: 'keep' | 'delete';
  reason: string;
}

const COUNT_OF: Record<Exclude<BackupClass, 'manual'>, keyof RetentionPolicy> = {
  daily: 'keepDaily',
  weekly: 'keepWeekly',
  monthly: 'keepMonthly',
  yearly: 'keepYearly',
};

/** The period a count of each scheduled class counts. */
const PERIOD_UNIT: Record<Exclude<BackupClass, 'manual'>, string> = { daily: 'day', weekly: 'week', monthly: 'month', yearly: 'year' };

const DAY_MS = 24 * 3600 * 1000;

/**
 * Decides every item's fate. The result lists complete backups first (per source, newest first), then
 * incomplete ones, then partial files, each exactly once.
 */
export function planPrune(items: readonly PruneItem[], policy: RetentionPolicy, now: Date): PruneDecision[] {
  validatePolicy(policy);
  const complete = items.filter((i): i is CompleteItem => i.kind === 'complete').sort(completeOrder);
  const incomplete = items.filter((i): i is IncompleteItem => i.kind === 'incomplete').sort(newestIdFirst);
  const partials = items.filter((i): i is PartialItem => i.kind === 'partial');

  const decisions: PruneDecision[] = [];
  const newestOfSource = new Set<string>();
  // Per source and class: the periods seen so far, newest first, each with its rank (1 = the newest period).
  const periodRanks = new Map<string, Map<string, number>>();
  for (const b of complete) {
    const source = `${b.engine}/${b.source}`;
    const isNewest = !newestOfSource.has(source);
    newestOfSource.add(source);
    // The newest full backup is kept too, even when a newer schema-only or --table backup is the newest overall.
    const kindKey = `${source}#${b.backupKind ?? ''}`;
    const isNewestOfKind = b.backupKind === 'full' && !newestOfSource.has(kindKey);
    newestOfSource.add(kindKey);
    let rank = 0;
    if (b.cls !== 'manual') {
      const classKey = `${source}/${b.cls}`;
      const ranks = periodRanks.get(classKey) ?? new Map<string, number>();
      periodRanks.set(classKey, ranks);
      const period = periodKey(b.cls, b.at);
      rank = ranks.get(period) ?? ranks.size + 1;
      ranks.set(period, rank);
    }

    const byClass = classRule(b, rank, policy, now);
    if (byClass.action === 'delete' && b.lockedUntil && b.lockedUntil.getTime() > now.getTime()) {
      decisions.push({ item: b, action: 'keep', reason: `locked until ${b.lockedUntil.toISOString()} (${byClass.reason})` });
    } else if (isNewest && byClass.action === 'delete') {
      decisions.push({ item: b, action: 'keep', reason: `newest complete backup of ${source} (never deleted; ${byClass.reason})` });
    } else if (isNewestOfKind && byClass.action === 'delete') {
      decisions.push({ item: b, action: 'keep', reason: `newest complete full backup of ${source} (never deleted; ${byClass.reason})` });
    } else {
      decisions.push({ item: b, ...byClass });
    }
  }
  for (const b of incomplete) {
    if (b.unreadableManifest) {
      decisions.push({ item: b, action: 'keep', reason: `manifest unreadable (${b.why}): never deleted by prune; check it and delete by hand` });
    } else {
      decisions.push({ item: b, ...leftoverRule(`incomplete (${b.why})`, b.lastModified, now) });
    }
  }
  for (const p of partials) decisions.push({ item: p, ...leftoverRule('temporary file of an interrupted write', p.lastModified, now) });
  return decisions;
}

function classRule(
  b: CompleteItem,
  rank: number,
  policy: RetentionPolicy,
  now: Date,
): { action: 'keep' | 'delete'; reason: string } {
  if (b.cls === 'manual') {
    const ageDays = (now.getTime() - b.at.getTime()) / DAY_MS;
    const shown = ageDays.toFixed(1);
    return ageDays <= policy.keepManualDays
      ? { action: 'keep', reason: `manual, ${shown} days old (keep ${policy.keepManualDays} days)` }
      : { action: 'delete', reason: `manual, ${shown} days old (older than ${policy.keepManualDays} days)` };
  }
  const keep = policy[COUNT_OF[b.cls]];
  const unit = PERIOD_UNIT[b.cls];
  const what = `${b.cls} of ${periodKey(b.cls, b.at)}, ${unit} #${rank} newest`;
  return rank <= keep
    ? { action: 'keep', reason: `${what} (keep ${keep} ${unit}s)` }
    : { action: 'delete', reason: `${what} (beyond the newest ${keep} ${unit}s)` };
}

function leftoverRule(what: string, lastModified: Date, now: Date): { action: 'keep' | 'delete'; reason: string } {
  const ageMs = now.getTime() - lastModified.getTime();
  const age = formatAge(ageMs);
  return ageMs < INCOMPLETE_GRACE_MS
    ? { action: 'keep', reason: `${what}, last written ${age} ago: may still be running` }
    : { action: 'delete', reason: `${what}, last written ${age} ago: leftover` };
}

function formatAge(ms: number): string {
  const h = ms / 3600_000;
  return h < 48 ? `${h.toFixed(1)}h` : `${(h / 24).toFixed(1)}d`;
}

/** Per source, newest first; ids sort by time. */
function completeOrder(a: CompleteItem, b: CompleteItem): number {
  const sa = `${a.engine}/${a.source}`;
  const sb = `${b.engine}/${b.source}`;
  if (sa !== sb) return sa < sb ? -1 : 1;
  return newestIdFirst(a, b);
}

function newestIdFirst(a: { id: string; cls: BackupClass }, b: { id: string; cls: BackupClass }): number {
  if (a.id !== b.id) return a.id < b.id ? 1 : -1;
  return BACKUP_CLASSES.indexOf(a.cls) - BACKUP_CLASSES.indexOf(b.cls);
}

/** Counts and days must be whole, non-negative numbers; a zero count is allowed (the newest is still kept). */
export function validatePolicy(policy: RetentionPolicy): void {
  for (const [key, value] of Object.entries(policy)) {
    if (!Number.isInteger(value) || value < 0) {
      throw usageError('bad_retention', `retention ${key} expected a whole number >= 0, got ${String(value)}`);
    }
  }
}
