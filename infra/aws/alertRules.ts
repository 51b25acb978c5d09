/**
 * CloudWatch metric filters and alarms on the runner's final log event, computed from the contract module
 * (runner/contract/events.ts) so the names cannot drift from what the runner prints.
 *
 * The filters are per stack (one log group) and carry the source as a metric dimension, so one filter serves every
 * source and each alarm selects its source by dimension. The five conditions match the GCP stack: backup failed, no
 * successful backup within the max age, backup smaller than the floor, backup slower than the threshold, drill failed
 * (the runner exits 1 and emits drill.failed when a check or an RPO/RTO target fails, so one condition covers both).
 */
import {
  BACKUP_FAILURE_EVENTS,
  BACKUP_SUCCESS_EVENTS,
  EVENTS,
  EVENT_FIELDS,
  type EventName,
} from '../../runner/contract/events';

/** The metrics the filters publish. */
export const METRICS = {
  backupFailed: 'BackupFailed',
  backupSucceeded: 'BackupSucceeded',
  backupBytes: 'BackupBytes',
  backupDurationSeconds: 'BackupDurationSeconds',
  drillFailed: 'DrillFailed',
} as const;
export type MetricKey = keyof typeof METRICS;

/** The dimension every metric carries, filled from the event's source field. */
export const SOURCE_DIMENSION = 'Source';

/** `{ ($.event = "a") || ($.event = "b") }`: a JSON filter pattern matching any of the given events. */
export function eventPattern(events: readonly EventName[]): string {
  if (events.length === 0) throw new Error('eventPattern: no events given');
  return `{ ${events.map((e) => `($.${EVENT_FIELDS.event} = "${e}")`).join(' || ')} }`;
}

export interface MetricFilterSpec {
  /** Short role used in the child resource name. */
  role: string;
  metric: MetricKey;
  pattern: string;
  /** `1` to count events, or `$.<field>` to publish a figure from the event. */
  value: string;
  unit: 'Count' | 'Bytes' | 'Seconds';
}

export function metricFilterSpecs(): MetricFilterSpec[] {
  const succeeded = eventPattern(BACKUP_SUCCESS_EVENTS);
  return [
    { role: 'backup-failed', metric: 'backupFailed', pattern: eventPattern(BACKUP_FAILURE_EVENTS), value: '1', unit: 'Count' },
    { role: 'backup-succeeded', metric: 'backupSucceeded', pattern: succeeded, value: '1', unit: 'Count' },
    { role: 'backup-bytes', metric: 'backupBytes', pattern: succeeded, value: `$.${EVENT_FIELDS.bytes}`, unit: 'Bytes' },
    {
      role: 'backup-duration',
      metric: 'backupDurationSeconds',
      pattern: succeeded,
      value: `$.${EVENT_FIELDS.durationSeconds}`,
      unit: 'Seconds',
    },
    { role: 'drill-failed', metric: 'drillFailed', pattern: eventPattern([EVENTS.drillFailed]), value: '1', unit: 'Count' },
  ];
}

/** What is watched for one source (a database or a Redis instance). */
export interface SourceAlertInput {
  source: string;
  engine: 'postgres' | 'redis';
  /** A successful backup must have been published within this many hours. */
  maxAgeHours: number;
  /** Alarm when a published backup is smaller than this many bytes (undefined: no floor). */
  minBytes?: number;
  /** Alarm when a backup takes longer than this many seconds (undefined: no threshold). */
  maxDurationSeconds?: number;
  /** Whether drills run for this source (Redis has none). */
  drills: boolean;
}

export type AlarmCondition = 'backup-failed' | 'backup-stale' | 'backup-too-small' | 'backup-slow' | 'drill-failed';

export interface AlarmSpec {
  condition: AlarmCondition;
  source: string;
  metric: MetricKey;
  statistic: 'Sum' | 'Minimum' | 'Maximum';
  period: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  threshold: number;
  comparisonOperator: 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold' | 'GreaterThanThreshold';
  treatMissingData: 'breaching' | 'notBreaching';
  description: string;
}

/**
 * CloudWatch evaluates an alarm over at most 7 days (Period x EvaluationPeriods <= 604,800 s for periods of an hour or
 * more), so the staleness window, which is the max age, cannot be longer.
 */
export const MAX_STALENESS_HOURS = 7 * 24;

/** Why a max age cannot become a staleness alarm, or undefined when it can. */
export function stalenessWindowProblem(maxAgeHours: number): string | undefined {
  if (!(maxAgeHours > 0)) return 'expected a positive max age';
  if (Math.ceil(maxAgeHours) > MAX_STALENESS_HOURS) {
    return `expected at most 7d on aws (a CloudWatch alarm evaluates at most 7 days of data)`;
  }
  return undefined;
}

/** Hourly buckets over the max age, all of which must be empty for the alarm: "no success for maxAge hours". */
export function stalenessWindow(maxAgeHours: number): { period: number; evaluationPeriods: number } {
  const problem = stalenessWindowProblem(maxAgeHours);
  if (problem) throw new Error(`max age: ${problem}, got ${maxAgeHours} hours`);
  return { period: 3600, evaluationPeriods: Math.ceil(maxAgeHours) };
}

function runbook(input: SourceAlertInput, what: string, logGroupName: string): string {
  const cli = input.engine === 'redis' ? 'lifeboat redis' : 'lifeboat';
  return (
    `${what} On-call: read the runner's last event with ` +
    `\`aws logs tail ${logGroupName} --since 2d --filter-pattern '{ $.${EVENT_FIELDS.source} = "${input.source}" }'\`, ` +
    `check health with \`lifeboat status --source ${input.source}\`, fix the cause, then run a backup by hand ` +
    `(\`${cli} backup --class manual\` in the runner task) and confirm it succeeds.`
  );
}

/** The alarms for one source; optional conditions only when their threshold is configured. */
export function alarmSpecs(input: SourceAlertInput, logGroupName: string): AlarmSpec[] {
  const common = { source: input.source, evaluationPeriods: 1, datapointsToAlarm: 1 } as const;
  const out: AlarmSpec[] = [
    {
      ...common,
      condition: 'backup-failed',
      metric: 'backupFailed',
      statistic: 'Sum',
      period: 300,
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
      description: runbook(input, `A backup of ${input.source} failed.`, logGroupName),
    },
  ];
  const stale = stalenessWindow(input.maxAgeHours);
  out.push({
    ...common,
    condition: 'backup-stale',
    metric: 'backupSucceeded',
    statistic: 'Sum',
    period: stale.period,
    evaluationPeriods: stale.evaluationPeriods,
    datapointsToAlarm: stale.evaluationPeriods,
    threshold: 1,
    comparisonOperator: 'LessThanThreshold',
    // No data at all is exactly the failure this alarm exists for (runner never started, task killed, schedule gone).
    treatMissingData: 'breaching',
    description: runbook(input, `No successful backup of ${input.source} in ${input.maxAgeHours} hours.`, logGroupName),
  });
  if (input.minBytes !== undefined) {
    out.push({
      ...common,
      condition: 'backup-too-small',
      metric: 'backupBytes',
      statistic: 'Minimum',
      period: 300,
      threshold: input.minBytes,
      comparisonOperator: 'LessThanThreshold',
      treatMissingData: 'notBreaching',
      description: runbook(input, `A backup of ${input.source} is smaller than ${input.minBytes} bytes.`, logGroupName),
    });
  }
  if (input.maxDurationSeconds !== undefined) {
    out.push({
      ...common,
      condition: 'backup-slow',
      metric: 'backupDurationSeconds',
      statistic: 'Maximum',
      period: 300,
      threshold: input.maxDurationSeconds,
      comparisonOperator: 'GreaterThanThreshold',
      treatMissingData: 'notBreaching',
      description: runbook(
        input,
        `A backup of ${input.source} took longer than ${input.maxDurationSeconds} seconds.`,
        logGroupName,
      ),
    });
  }
  if (input.drills) {
    out.push({
      ...common,
      condition: 'drill-failed',
      metric: 'drillFailed',
      statistic: 'Sum',
      period: 300,
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
      description:
        `A restore drill of ${input.source} failed or missed its RPO/RTO target. On-call: read the drill report ` +
        `(\`lifeboat drill\` prints it; it is stored under drills/ in the bucket), and the runner's event with ` +
        `\`aws logs tail ${logGroupName} --since 2d --filter-pattern '{ $.${EVENT_FIELDS.event} = "${EVENTS.drillFailed}" }'\`; ` +
        `a failed row-count check means the backups cannot be trusted: take a manual backup and drill it again.`,
    });
  }
  return out;
}

/** Exit codes the runner itself returns (0 success, 1 failure, 2 bad usage/config): each comes with its final event. */
export const RUNNER_EXIT_CODES = [0, 1, 2] as const;

/**
 * EventBridge patterns (by rule role, as functions of the cluster ARN) for runner tasks that stopped without the
 * runner's final event, so no metric alarm can see them:
 * - `task-not-started`: ECS could not start the task (a secret without a value, an image that cannot be pulled);
 * - `task-killed`: the runner container exited with a code the runner never returns itself: 124 from the `timeout`
 *   deadline, 137 when it was killed (out of memory, SIGKILL after the deadline's grace), anything else unexpected.
 */
export function taskStoppedPatterns(containerName: string): Record<'task-not-started' | 'task-killed', (clusterArn: string) => object> {
  const stopped = (clusterArn: string, detail: object) => ({
    source: ['aws.ecs'],
    'detail-type': ['ECS Task State Change'],
    detail: { clusterArn: [clusterArn], lastStatus: ['STOPPED'], ...detail },
  });
  return {
    'task-not-started': (clusterArn) => stopped(clusterArn, { stopCode: ['TaskFailedToStart'] }),
    'task-killed': (clusterArn) =>
      stopped(clusterArn, { containers: { name: [containerName], exitCode: [{ 'anything-but': [...RUNNER_EXIT_CODES] }] } }),
  };
}
