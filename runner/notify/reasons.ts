/**
 * Which final events are worth telling a person about, and in what words: a failure, a missed RPO, a failed
 * drill, and the first success after failures (once, so a recovered job does not page on every later run).
 */
import { EVENTS, EVENT_FIELDS } from '../contract/events';
import type { FinalEvent } from '../context';

export const NOTIFY_REASONS = ['failure', 'rpo-missed', 'drill-failed', 'recovery'] as const;
export type NotifyReason = (typeof NOTIFY_REASONS)[number];

export interface Notification {
  reason: NotifyReason;
  /** One line: what happened to what. */
  title: string;
  /** The run's own message. */
  text: string;
  /** The scheduler's job (`<source>/<kind>`), when a scheduled run. */
  job?: string;
  event: FinalEvent;
}

/** The reason to notify about `event`, given how many runs of the same job failed just before it. */
export function notifyReason(event: FinalEvent, failuresBefore: number): NotifyReason | undefined {
  const f = event.fields;
  if (event.severity !== 'error') return failuresBefore > 0 ? 'recovery' : undefined;
  if (event.event === EVENTS.drillFailed || event.event === EVENTS.pitrDrillFailed) {
    const rpo = f[EVENT_FIELDS.rpoSeconds];
    const target = f[EVENT_FIELDS.rpoTargetSeconds];
    if (typeof rpo === 'number' && typeof target === 'number' && rpo > target) return 'rpo-missed';
    // A drill that ran to its end and failed a check carries no error code; one that could not run does.
    if (f[EVENT_FIELDS.errorCode] === undefined) return 'drill-failed';
  }
  return 'failure';
}

export function describeNotification(reason: NotifyReason, event: FinalEvent, job?: string): Notification {
  const source = typeof event.fields[EVENT_FIELDS.source] === 'string' ? ` of ${String(event.fields[EVENT_FIELDS.source])}` : '';
  const what = `${event.event.replace(/\.(succeeded|failed|healthy|unhealthy)$/, '')}${source}`;
  const title = {
    failure: event.event === EVENTS.statusUnhealthy ? `Lifeboat: ${what} is unhealthy` : `Lifeboat: ${what} failed`,
    'rpo-missed': `Lifeboat: ${what} missed its RPO`,
    'drill-failed': `Lifeboat: ${what}: the drill failed`,
    recovery: `Lifeboat: ${what} recovered`,
  }[reason];
  return { reason, title, text: event.message, job, event };
}
