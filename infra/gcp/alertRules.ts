/**
 * Log filters and alert conditions built on the runner's log contract (runner/contract/events.ts): the event
 * names and field names are imported, never retyped, so the runner and the alerts cannot drift apart.
 */
import { BACKUP_FAILURE_EVENTS, BACKUP_SUCCESS_EVENTS, EVENTS, EVENT_FIELDS, type EventName } from '../../runner/contract/events';

/** `jsonPayload.<field>` for a contract field. */
export function payloadField(field: (typeof EVENT_FIELDS)[keyof typeof EVENT_FIELDS]): string {
  return `jsonPayload.${field}`;
}

function quoted(s: string): string {
  return JSON.stringify(s);
}

function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Logs of this stack's runner jobs. With the stack's sources, exactly its job names
 * (`<prefix>-<source>-<task>`): a bare prefix match would also count the jobs of another stack in the project
 * whose prefix merely starts the same (`lifeboat-prod` and `lifeboat-prod-dr`, `lifeboat-prod-eu`), and page twice.
 */
export function runnerLogScope(jobNamePrefix: string, sources: readonly string[] = []): string {
  const pattern = sources.length
    ? `^${regexEscape(jobNamePrefix)}-(${sources.map(regexEscape).join('|')})-[a-z-]+$`
    : `^${regexEscape(jobNamePrefix)}-`;
  return `resource.type="cloud_run_job" AND resource.labels.job_name=~${quoted(pattern)}`;
}

/** A logging filter matching final events with one of `events`. */
export function eventFilter(scope: string, events: readonly EventName[]): string {
  const field = payloadField(EVENT_FIELDS.event);
  const names = events.map((e) => `${field}=${quoted(e)}`);
  return `${scope} AND (${names.join(' OR ')})`;
}

/** Events counted by the `events` metric: every outcome the alerts look at. */
export const COUNTED_EVENTS: readonly EventName[] = [
  ...BACKUP_SUCCESS_EVENTS,
  ...BACKUP_FAILURE_EVENTS,
  EVENTS.drillSucceeded,
  EVENTS.drillFailed,
  EVENTS.statusHealthy,
  EVENTS.statusUnhealthy,
];

export const METRIC_LABELS = {
  event: { key: 'event', extractor: `EXTRACT(${payloadField(EVENT_FIELDS.event)})` },
  source: { key: 'source', extractor: `EXTRACT(${payloadField(EVENT_FIELDS.source)})` },
} as const;

/** Monitoring filter on a user-defined log-based metric, narrowed by its labels. */
export function metricFilter(metricName: string, labels: Record<string, string | readonly string[]>): string {
  const parts = [`metric.type="logging.googleapis.com/user/${metricName}"`, 'resource.type="cloud_run_job"'];
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v === 'string') parts.push(`metric.label.${k}=${quoted(v)}`);
    else parts.push(`(${v.map((x) => `metric.label.${k}=${quoted(x)}`).join(' OR ')})`);
  }
  return parts.join(' AND ');
}

/** Backups of `source` that published fewer stored bytes than the floor (a log-match condition). */
export function smallBackupFilter(scope: string, source: string, floorBytes: number, events: readonly EventName[]): string {
  return `${eventFilter(scope, events)} AND ${payloadField(EVENT_FIELDS.source)}=${quoted(source)} AND ${payloadField(EVENT_FIELDS.bytes)}<${floorBytes}`;
}

/** Backups of `source` slower than the threshold (a log-match condition). */
export function slowBackupFilter(scope: string, source: string, slowSeconds: number, events: readonly EventName[]): string {
  return `${eventFilter(scope, events)} AND ${payloadField(EVENT_FIELDS.source)}=${quoted(source)} AND ${payloadField(EVENT_FIELDS.durationSeconds)}>${slowSeconds}`;
}

/** Cloud Monitoring takes durations as seconds with an "s" suffix. */
export function seconds(n: number): string {
  return `${Math.round(n)}s`;
}
