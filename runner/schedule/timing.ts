/**
 * When a job runs next. Cron expressions with a time zone go to croner (a maintained library that knows
 * daylight saving); intervals are counted from the last start. Jitter is added on top, never subtracted, so a
 * run is never early.
 */
import { Cron } from 'croner';
import type { Timing } from './config';

/** The first occurrence strictly after `after`. */
export function nextOccurrence(timing: Timing, after: Date): Date {
  if ('every' in timing) return new Date(after.getTime() + timing.every);
  const cron = new Cron(timing.cron, { timezone: timing.timezone, paused: true });
  try {
    const next = cron.nextRun(after);
    if (!next) throw new Error(`the cron expression ${timing.cron} has no next run`);
    return next;
  } finally {
    cron.stop();
  }
}

/**
 * When a job should first run as the daemon starts, given its last start (if any): at once when an occurrence
 * fell between its last start and now (a run missed while the daemon was down runs once), or when an interval
 * job has never run; otherwise at its next occurrence.
 */
export function firstRun(timing: Timing, lastStartedAt: Date | undefined, now: Date): { at: Date; missed: boolean } {
  if (lastStartedAt === undefined) {
    return 'every' in timing ? { at: now, missed: false } : { at: nextOccurrence(timing, now), missed: false };
  }
  const due = nextOccurrence(timing, lastStartedAt);
  return due.getTime() <= now.getTime() ? { at: now, missed: true } : { at: due, missed: false };
}

/** A random delay in [0, jitterMs). */
export function jitter(jitterMs: number, random: () => number = Math.random): number {
  return jitterMs > 0 ? Math.floor(random() * jitterMs) : 0;
}
