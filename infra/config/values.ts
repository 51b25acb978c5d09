/**
 * Small value schemas shared by every section of the config: durations, cron expressions, names. Each one says,
 * in its error, what it expected, so a bad stack file value produces a message a person can act on.
 */
import { z } from 'zod';

const DURATION = /^([1-9]\d*)(s|m|h|d)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** "90s", "30m", "26h", "7d" → seconds. Throws on anything else. */
export function durationSeconds(text: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
}

/** A duration string like "26h", kept as text in the typed config (the runner takes the same syntax). */
export const duration = z
  .string({ error: 'expected a duration like "90s", "30m", "26h" or "7d"' })
  .regex(DURATION, { error: 'expected a duration like "90s", "30m", "26h" or "7d"' });

// One field of a 5-field cron: *, */n, a, a-b, a-b/n, and comma lists of those.
const CRON_FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$/;
const CRON_RANGES: Array<[number, number]> = [
  [0, 59], // minute
  [0, 23], // hour
  [1, 31], // day of month
  [1, 12], // month
  [0, 7], // day of week (0 and 7 are Sunday)
];

/** True for a standard 5-field cron expression (numeric fields only), as Cloud Scheduler and Kubernetes take. */
export function isCron(text: string): boolean {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 5) return false;
  return fields.every((f, i) => {
    if (!CRON_FIELD.test(f)) return false;
    const [lo, hi] = CRON_RANGES[i]!;
    // Step values (after "/") only need to be positive; range ends must be in range.
    const steps = [...f.matchAll(/\/(\d+)/g)].map((m) => Number(m[1]));
    if (steps.some((s) => s < 1)) return false;
    const bounds = f
      .split(',')
      .flatMap((part) => part.split('/')[0]!.split('-'))
      .filter((x) => x !== '*')
      .map(Number);
    return bounds.every((n) => n >= lo && n <= hi);
  });
}

export const cron = z
  .string({ error: 'expected a 5-field cron expression like "30 2 * * *"' })
  .refine(isCron, { error: 'expected a 5-field cron expression like "30 2 * * *" (minute hour day month weekday)' });

/** "HH:MM" in 24-hour time, as Cloud SQL's backup start time and RDS's backup window take. */
export const clockTime = z
  .string({ error: 'expected a time of day "HH:MM"' })
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'expected a time of day "HH:MM" (24-hour)' });

/**
 * A protected source's name. It becomes the runner's `--source` (a storage path segment) and part of cloud
 * resource names (Cloud Run job names, service account ids are short), so it is kept short and lowercase.
 */
export const SOURCE_NAME = /^[a-z][a-z0-9-]{0,18}[a-z0-9]$/;
export const sourceName = z
  .string({ error: 'expected a name of 2-20 lowercase letters, digits or hyphens, starting with a letter' })
  .regex(SOURCE_NAME, {
    error: 'expected a name of 2-20 lowercase letters, digits or hyphens, starting with a letter',
  });

/** A Secret Manager / Secrets Manager / Kubernetes Secret name (the value itself never appears in config). */
export const secretName = z
  .string({ error: 'expected the name of a secret (letters, digits, "-" or "_")' })
  .regex(/^[A-Za-z0-9_-]{1,255}$/, { error: 'expected the name of a secret (letters, digits, "-" or "_")' });

export const positiveInt = z.number({ error: 'expected a whole number' }).int({ error: 'expected a whole number' }).positive({ error: 'expected a number above 0' });
export const nonNegativeInt = z.number({ error: 'expected a whole number' }).int({ error: 'expected a whole number' }).nonnegative({ error: 'expected a number of 0 or more' });
