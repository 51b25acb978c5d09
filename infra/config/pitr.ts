/**
 * `lifeboat:pitr`: point-in-time recovery schedules and their alerts, for every database of the stack (or the ones
 * listed). What gets built depends on where the database is:
 * - a managed instance (Cloud SQL, RDS): the cloud archives WAL itself; the stack schedules `pitr drill --cloudsql |
 *   --rds` (a clone to `now - drillAgo`, checked and deleted) and `pitr heartbeat`;
 * - a self-hosted database (Kubernetes, or a database without `instance` on AWS): pgBackRest archives and backs up
 *   beside the database; the stack schedules what needs only a connection (`pitr heartbeat`, `status
 *   --archiving-url`) and, on Kubernetes, the drill (it restores from the repository, not the data directory).
 *   fullCron and diffCron are the schedules of the backups that run beside the database (docs/pitr.md).
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { cron, duration, durationSeconds, secretName, sourceName } from './values';

export const pitrSchema = z.strictObject({
  /** Turn PITR schedules and alerts on. */
  enabled: z.boolean().default(false),
  /** Which databases (by name); default: every database of the stack. */
  databases: z.array(sourceName).optional(),
  /** Self-hosted: `pitr backup --type full`, beside the database. Default: weekly, Sunday 01:00. */
  fullCron: cron.default('0 1 * * 0'),
  /** Self-hosted: `pitr backup --type diff`, beside the database. Default: the other days at 01:00. */
  diffCron: cron.default('0 1 * * 1-6'),
  /** `pitr heartbeat`: how often a heartbeat row is written (minutes dividing an hour, or hours dividing a day). */
  heartbeatEvery: duration.default('5m'),
  /** Self-hosted: `status --archiving-url` (archive failures and lag), as heartbeatEvery. */
  archivingCheckEvery: duration.default('10m'),
  /** `pitr drill --ago <drillAgo>`. Default: daily at 05:00. */
  drillCron: cron.default('0 5 * * *'),
  drillAgo: duration.default('1h'),
  /** The missing-drill alert fires when no drill passed within the drill's longest gap plus this. */
  drillSlack: duration.default('6h'),
  /** Self-hosted: the archive lag that makes archiving unhealthy (`status --max-archive-lag`, `pitr drill --rpo`). */
  rpo: duration.default('15m'),
  /** Self-hosted: `pitr drill --rto`: restore, recovery and the first query must fit in it. */
  rto: duration.default('1h'),
  /**
   * Kubernetes: the image of the drill CronJob. The runner image has neither pgBackRest nor the PostgreSQL server,
   * so this is an image with both (the cluster's major) and the runner; required on Kubernetes.
   */
  drillImage: z.string().min(1).optional(),
  /**
   * Kubernetes: a Secret holding the files `pitr init` wrote to `<config-dir>/<source>/` (pgbackrest.conf,
   * lifeboat.json, and the `secret/` files as keys `secret-cipher.conf`, `secret-s3.conf`). Default
   * `<namePrefix>-<source>-pitr-config`.
   */
  configSecret: secretName.optional(),
});

export type PitrSection = z.output<typeof pitrSchema>;

export const pitrKeys = {
  'lifeboat:pitr': pitrSchema.default(() => pitrSchema.parse({})),
};

/** The section with the databases it covers resolved (empty when off). */
export interface PitrConfig extends Omit<PitrSection, 'databases'> {
  /** The databases covered: every database, or the ones listed; none when off. */
  databases: string[];
  /** The names as listed in config (checked against the databases). */
  listed?: string[];
}

export function resolvePitr(section: PitrSection, databases: ReadonlyArray<{ name: string }>): PitrConfig {
  const { databases: listed, ...rest } = section;
  const names = section.enabled ? (listed ?? databases.map((d) => d.name)) : [];
  return { ...rest, ...(listed ? { listed } : {}), databases: names.filter((n) => databases.some((d) => d.name === n)) };
}

/**
 * A duration as a five-field cron that fires exactly that often: minutes that divide an hour (`*\/5 * * * *`) or
 * hours that divide a day (`0 *\/6 * * *`). Cron cannot say "every 7 minutes" without an uneven gap at the hour,
 * so anything else is refused (undefined).
 */
export function everyAsCron(seconds: number): string | undefined {
  if (seconds % 60 !== 0 || seconds <= 0) return undefined;
  const minutes = seconds / 60;
  if (minutes < 60) return 60 % minutes === 0 ? (minutes === 1 ? '* * * * *' : `*/${minutes} * * * *`) : undefined;
  if (minutes % 60 !== 0) return undefined;
  const hours = minutes / 60;
  if (hours === 24) return '0 0 * * *';
  return hours < 24 && 24 % hours === 0 ? (hours === 1 ? '0 * * * *' : `0 */${hours} * * *`) : undefined;
}

/**
 * The longest time between two runs of a cron (seconds), over a year of runs in UTC: "0 5 * * *" → 86400,
 * "0 1 * * 0" → 604800. A missing-run alert waits at least this long (plus slack) before it fires.
 */
export function longestGapSeconds(expression: string): number {
  const job = new Cron(expression, { timezone: 'Etc/UTC', paused: true });
  try {
    let prev = job.nextRun(new Date(Date.UTC(2026, 0, 1)));
    let longest = 0;
    for (let i = 0; i < 600 && prev; i++) {
      const next = job.nextRun(prev);
      if (!next) break;
      longest = Math.max(longest, (next.getTime() - prev.getTime()) / 1000);
      prev = next;
    }
    return longest;
  } finally {
    job.stop();
  }
}

/** CloudWatch evaluates an alarm over at most 7 days: the AWS missing-drill alarm's window must fit. */
export const AWS_MAX_ALARM_WINDOW_SECONDS = 7 * 86_400;

/** What the cross-field checks read of the whole config (the loader's LifeboatConfig is one). */
export interface PitrCheckInput {
  platform: string;
  role: string;
  pitr: PitrConfig;
  databases: ReadonlyArray<{ name: string; instance?: unknown; managedBackup: { pointInTimeRecovery: boolean } }>;
}

/** Cross-field checks of `lifeboat:pitr`; every problem names its key. */
export function checkPitr(cfg: PitrCheckInput, problems: string[]): void {
  const p = cfg.pitr;
  p.listed?.forEach((n, i) => {
    if (!cfg.databases.some((d) => d.name === n)) {
      problems.push(`lifeboat:pitr.databases[${i}]: expected one of the databases' names (${cfg.databases.map((d) => d.name).join(', ') || 'none'}), got ${JSON.stringify(n)}`);
    }
  });
  if (!p.enabled) return;
  if (cfg.role === 'dr') {
    problems.push('lifeboat:pitr.enabled: expected false on a stack with role "dr" (PITR drills run from the primary stack), got true');
    return;
  }
  for (const key of ['heartbeatEvery', 'archivingCheckEvery'] as const) {
    if (everyAsCron(durationSeconds(p[key])) === undefined) {
      problems.push(`lifeboat:pitr.${key}: expected minutes that divide an hour (1m, 5m, 15m, 30m) or hours that divide a day (1h, 6h, 24h), got ${JSON.stringify(p[key])}`);
    }
  }
  const windowSeconds = longestGapSeconds(p.drillCron) + durationSeconds(p.drillSlack);
  if (cfg.platform === 'aws' && windowSeconds > AWS_MAX_ALARM_WINDOW_SECONDS) {
    problems.push(
      `lifeboat:pitr.drillCron: expected a drill at least every 7 days minus drillSlack (${p.drillSlack}) on aws (the missing-drill alarm evaluates at most 7 days), got ${JSON.stringify(p.drillCron)}`,
    );
  }
  cfg.databases.forEach((d, i) => {
    if (!p.databases.includes(d.name)) return;
    if (d.instance && !d.managedBackup.pointInTimeRecovery) {
      problems.push(
        `lifeboat:databases[${i}].managedBackup.pointInTimeRecovery: expected true because lifeboat:pitr covers database ${JSON.stringify(d.name)} (its drill clones the instance to a point in time), got false`,
      );
    }
  });
  if (cfg.platform === 'kubernetes' && p.databases.length && !p.drillImage) {
    problems.push(
      'lifeboat:pitr.drillImage: expected an image with the runner, pgBackRest and the PostgreSQL server of the cluster\'s major (the runner image has neither; the drill CronJob restores with them), got nothing',
    );
  }
}
