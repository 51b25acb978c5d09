/**
 * Alert conditions for point-in-time recovery drills on GCP, on the runner's final events like alertRules.ts.
 *
 * "A drill did not run" is the absence of `pitr.drill.succeeded` for longer than the drill's schedule allows. Cloud
 * Monitoring's metric-absence conditions look back at most 23.5 hours, shorter than a daily drill's gap plus slack,
 * so that condition is PromQL instead (`absent_over_time` over any window), on the same log-based metric.
 */
import { EVENTS, type EventName } from '../../runner/contract/events';

/** The events the PITR log-based metric counts. */
export const PITR_COUNTED_EVENTS: readonly EventName[] = [EVENTS.pitrDrillSucceeded, EVENTS.pitrDrillFailed, EVENTS.pitrHeartbeatFailed];

/** The log-based metric's name: `<prefix>-pitr-events`. */
export function pitrMetricName(prefix: string): string {
  return `${prefix}-pitr-events`;
}

/**
 * A user-defined log-based metric's name in PromQL: `logging.googleapis.com/user/<name>` with the first `/` made `:`
 * and every other character PromQL does not allow made `_` (Cloud Monitoring's PromQL mapping).
 */
export function promqlLogMetric(metricName: string): string {
  return `logging_googleapis_com:user_${metricName.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

/** PromQL that is 1 while no PITR drill of `source` passed within `windowSeconds`. */
export function missingDrillQuery(prefix: string, source: string, windowSeconds: number): string {
  const selector = `${promqlLogMetric(pitrMetricName(prefix))}{monitored_resource="cloud_run_job", event=${JSON.stringify(EVENTS.pitrDrillSucceeded)}, source=${JSON.stringify(source)}}`;
  return `absent_over_time(${selector}[${Math.ceil(windowSeconds)}s])`;
}
