/**
 * Which class a scheduled backup goes to (docs/design.md, "Storage layout"): the longest of yearly / monthly / weekly / daily whose
 * current period has no complete backup yet. A backup of a longer class covers the shorter periods it falls in
 * (a yearly backup taken on 1 January is also that month's and that week's), so the first backup of a year is
 * yearly, the next one that month is daily unless the week already rolled over, and so on. Manual backups
 * never count. Periods are UTC calendar years and months and ISO weeks.
 */
import type { BackupClass, ScheduledClass } from '../contract/layout';

export interface DatedBackup {
  cls: BackupClass;
  /** When the backup's snapshot was taken. */
  at: Date;
  /** The backup's kind (full, schema, data, tables), when the caller knows it. */
  kind?: string;
}

const RANK: Record<BackupClass, number> = { manual: 0, daily: 1, weekly: 2, monthly: 3, yearly: 4 };

/** ISO 8601 week-numbering year and week of a UTC instant. */
export function isoWeek(d: Date): { year: number; week: number } {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7; // Monday 1 .. Sunday 7
  t.setUTCDate(t.getUTCDate() + 4 - day); // the Thursday of this week decides the year
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return { year: t.getUTCFullYear(), week };
}

/** A string naming the period of `cls` that contains `d` (2026, 2026-03, 2026-W09, 2026-03-01); equal strings mean the same period. */
export function periodKey(cls: ScheduledClass, d: Date): string {
  switch (cls) {
    case 'yearly':
      return `${d.getUTCFullYear()}`;
    case 'monthly':
      return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
    case 'weekly': {
      const w = isoWeek(d);
      return `${w.year}-W${String(w.week).padStart(2, '0')}`;
    }
    case 'daily':
      return d.toISOString().slice(0, 10);
  }
}

const LONGEST_FIRST: readonly ScheduledClass[] = ['yearly', 'monthly', 'weekly'];

export function chooseScheduledClass(now: Date, existing: readonly DatedBackup[]): ScheduledClass {
  for (const cls of LONGEST_FIRST) {
    const period = periodKey(cls, now);
    const covered = existing.some((b) => RANK[b.cls] >= RANK[cls] && periodKey(cls, b.at) === period);
    if (!covered) return cls;
  }
  return 'daily';
}

/**
 * `--class manual` forces manual; anything else is chosen from the calendar. With `kind`, only backups of that
 * kind count: a schema-only job must not take the yearly slot of the source's full backups (the full backup of
 * 1 January would then be a daily one, gone after a week, and the year would keep no full backup).
 */
export function chooseClass(
  now: Date,
  existing: readonly DatedBackup[],
  requested?: 'manual' | BackupClass,
  kind?: string,
): BackupClass {
  if (requested === 'manual') return 'manual';
  if (requested) return requested;
  return chooseScheduledClass(now, kind === undefined ? existing : existing.filter((b) => b.kind === undefined || b.kind === kind));
}
