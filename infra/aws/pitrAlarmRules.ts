/**
 * CloudWatch metric filters and alarms for point-in-time recovery, on the runner's final events like alertRules.ts:
 * a PITR drill that failed (`pitr.drill.failed`), one that did not pass within its schedule's longest gap plus slack
 * (no `pitr.drill.succeeded`: the task never started, was killed, or the schedule is gone), a heartbeat that failed,
 * and, for self-hosted databases, WAL archiving that failed or lags (`status.unhealthy` from `status
 * --archiving-url`, the only status task an AWS stack runs).
 */
import { EVENTS, EVENT_FIELDS } from '../../runner/contract/events';
import { eventPattern, SOURCE_DIMENSION } from './alertRules';

export const PITR_METRICS = {
  drillFailed: 'PitrDrillFailed',
  drillSucceeded: 'PitrDrillSucceeded',
  heartbeatFailed: 'PitrHeartbeatFailed',
  archivingUnhealthy: 'PitrArchivingUnhealthy',
} as const;
export type PitrMetricKey = keyof typeof PITR_METRICS;

export interface PitrMetricFilterSpec {
  role: string;
  metric: PitrMetricKey;
  pattern: string;
  /** Whether the event carries the source (the archiving check's status event does not: it judges one server). */
  bySource: boolean;
}

export function pitrMetricFilterSpecs(): PitrMetricFilterSpec[] {
  return [
    { role: 'pitr-drill-failed', metric: 'drillFailed', pattern: eventPattern([EVENTS.pitrDrillFailed]), bySource: true },
    { role: 'pitr-drill-succeeded', metric: 'drillSucceeded', pattern: eventPattern([EVENTS.pitrDrillSucceeded]), bySource: true },
    { role: 'pitr-heartbeat-failed', metric: 'heartbeatFailed', pattern: eventPattern([EVENTS.pitrHeartbeatFailed]), bySource: true },
    { role: 'pitr-archiving-unhealthy', metric: 'archivingUnhealthy', pattern: eventPattern([EVENTS.statusUnhealthy]), bySource: false },
  ];
}

export type PitrAlarmCondition = 'pitr-drill-failed' | 'pitr-drill-missing' | 'pitr-heartbeat-failed' | 'pitr-archiving';

export interface PitrAlarmSpec {
  condition: PitrAlarmCondition;
  /** undefined: stack-wide (the metric has no source dimension). */
  source?: string;
  metric: PitrMetricKey;
  period: number;
  evaluationPeriods: number;
  threshold: number;
  comparisonOperator: 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold';
  treatMissingData: 'breaching' | 'notBreaching';
  description: string;
}

export interface PitrAlarmInput {
  source: string;
  /** A drill must pass within this many seconds (the schedule's longest gap plus slack). */
  drillWindowSeconds: number;
  /** Whether a PITR drill task runs for it on this stack. */
  drills: boolean;
}

/** CloudWatch evaluates at most 7 days: hourly buckets, all empty, over the window rounded up to the hour. */
export function missingDrillWindow(windowSeconds: number): { period: number; evaluationPeriods: number } {
  const hours = Math.ceil(windowSeconds / 3600);
  if (!(hours > 0) || hours > 7 * 24) throw new Error(`PITR drill window: expected 1 hour to 7 days (CloudWatch evaluates at most 7 days), got ${windowSeconds} seconds`);
  return { period: 3600, evaluationPeriods: hours };
}

function logs(logGroupName: string, event: string): string {
  return `\`aws logs tail ${logGroupName} --since 2d --filter-pattern '{ $.${EVENT_FIELDS.event} = "${event}" }'\``;
}

export function pitrAlarmSpecs(inputs: PitrAlarmInput[], logGroupName: string, opts: { archiving: boolean }): PitrAlarmSpec[] {
  const out: PitrAlarmSpec[] = [];
  const now = { period: 300, evaluationPeriods: 1, threshold: 1, comparisonOperator: 'GreaterThanOrEqualToThreshold', treatMissingData: 'notBreaching' } as const;
  for (const s of inputs) {
    out.push({
      ...now,
      condition: 'pitr-heartbeat-failed',
      source: s.source,
      metric: 'heartbeatFailed',
      description: `A PITR heartbeat of ${s.source} failed: the database refused the write, so drills lose their exact check. On-call: read ${logs(logGroupName, EVENTS.pitrHeartbeatFailed)}.`,
    });
    if (!s.drills) continue;
    out.push({
      ...now,
      condition: 'pitr-drill-failed',
      source: s.source,
      metric: 'drillFailed',
      description:
        `A point-in-time recovery drill of ${s.source} failed: the clone to a moment did not come up, did not hold the ` +
        `heartbeat before it, or took too long. On-call: read the report under drills/pitr/${s.source}/ and ${logs(logGroupName, EVENTS.pitrDrillFailed)}; ` +
        'until a drill passes, the recovery window of that database is unproven.',
    });
    const w = missingDrillWindow(s.drillWindowSeconds);
    out.push({
      condition: 'pitr-drill-missing',
      source: s.source,
      metric: 'drillSucceeded',
      period: w.period,
      evaluationPeriods: w.evaluationPeriods,
      threshold: 1,
      comparisonOperator: 'LessThanThreshold',
      // No data is exactly what this alarm is for: the task did not start, was killed, or its schedule is gone.
      treatMissingData: 'breaching',
      description:
        `No point-in-time recovery drill of ${s.source} passed in ${w.evaluationPeriods} hours. On-call: check the ` +
        `schedule (\`aws scheduler list-schedules\`) and the task's last run, then run the drill now (stack output runNow).`,
    });
  }
  if (opts.archiving) {
    out.push({
      ...now,
      condition: 'pitr-archiving',
      metric: 'archivingUnhealthy',
      description:
        `WAL archiving of a self-hosted database failed or lags past its RPO (status.unhealthy from status --archiving-url): ` +
        `recovery to a recent moment is not possible until it works. On-call: read ${logs(logGroupName, EVENTS.statusUnhealthy)}, then ` +
        '`pgbackrest --stanza=<source> check` on the database host as its OS user (docs/pitr.md).',
    });
  }
  return out;
}

export { SOURCE_DIMENSION };
