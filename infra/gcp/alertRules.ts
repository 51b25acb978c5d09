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

/**
 * A user-defined log-based metric's name in Cloud Monitoring's PromQL: the first `/` becomes `:`, every other
 * character outside [a-zA-Z0-9_] becomes `_` (`logging.googleapis.com/user/lifeboat-prod-events` →
 * `logging_googleapis_com:user_lifeboat_prod_events`).
 */
export function promMetricName(metricName: string): string {
  const full = `logging.googleapis.com/user/${metricName}`;
  const slash = full.indexOf('/');
  const clean = (s: string) => s.replace(/[^a-zA-Z0-9_]/g, '_');
  return `${clean(full.slice(0, slash))}:${clean(full.slice(slash + 1))}`;
}

/** A PromQL string literal holding an RE2 pattern that matches exactly one of `values`. */
function promRegexOf(values: readonly string[]): string {
  return JSON.stringify(values.map(regexEscape).join('|'));
}

/** `metric{monitored_resource="cloud_run_job", label=~"a|b", ...}` on a log-based metric. */
export function promSelector(metricName: string, labels: Record<string, string | readonly string[]>): string {
  const matchers = ['monitored_resource="cloud_run_job"'];
  for (const [k, v] of Object.entries(labels)) {
    matchers.push(typeof v === 'string' ? `${k}=${JSON.stringify(v)}` : `${k}=~${promRegexOf(v)}`);
  }
  return `${promMetricName(metricName)}{${matchers.join(',')}}`;
}

/**
 * PromQL: per source, more than zero matching events in the window. Used instead of a threshold condition on the
 * log-based metric because Cloud Monitoring refuses such a condition ("Cannot find metric(s)", 404) for minutes
 * after the metric is created, which broke every stack's first `pulumi up`; a PromQL condition with metric
 * validation switched off is accepted before the metric has its first point.
 */
export function promCountAbove0(metricName: string, labels: Record<string, string | readonly string[]>, windowSeconds = 300): string {
  return `sum by (source) (increase(${promSelector(metricName, labels)}[${seconds(windowSeconds)}])) > 0`;
}

/**
 * PromQL: a source with no matching event for `silenceSeconds` (one `absent_over_time` per source: absence
 * cannot be grouped by a label the missing series no longer has).
 */
export function promAbsent(metricName: string, sources: readonly string[], labels: Record<string, string | readonly string[]>, silenceSeconds: number): string {
  return sources.map((s) => `absent_over_time(${promSelector(metricName, { ...labels, source: s })}[${seconds(silenceSeconds)}])`).join(' or ');
}
