/**
 * Runs one command and ends the run with exactly one structured event (the contract in
 * runner/contract/events.ts), whatever happens. This is the one place that maps outcomes to exit codes:
 * 0 success, 1 runtime failure, 2 bad usage or config.
 */
import { EVENT_FIELDS, type EventName } from '../contract/events';
import type { Manifest } from '../contract/manifest';
import { describeError, isLifeboatError } from '../errors';
import { logEvent } from '../log';
import { redact } from '../redact';
import type { FinalEvent, RunContext } from '../context';

export interface ActionOutcome {
  /** 0 unless the command finished but found a problem (a row-count mismatch, a failed drill): then 1. */
  exitCode?: 0 | 1;
  /** Figures for the final event: source, class, bytes, durationSeconds, backupId, ... */
  fields?: Record<string, unknown>;
  message: string;
}

export interface ActionEvents {
  succeeded: EventName;
  failed: EventName;
}

export async function runAction(
  ctx: RunContext,
  events: ActionEvents,
  baseFields: Record<string, unknown>,
  fn: () => Promise<ActionOutcome>,
): Promise<number> {
  const started = ctx.now().getTime();
  try {
    const outcome = await fn();
    const exitCode = outcome.exitCode ?? 0;
    const fields = {
      ...baseFields,
      durationSeconds: round((ctx.now().getTime() - started) / 1000),
      ...outcome.fields,
      exitCode,
    };
    if (exitCode === 0) logEvent(ctx.logger, events.succeeded, fields, outcome.message);
    else logEvent(ctx.logger, events.failed, fields, outcome.message, 'error');
    await tellFinalEvent(ctx, { event: exitCode === 0 ? events.succeeded : events.failed, severity: exitCode === 0 ? 'info' : 'error', message: outcome.message, fields });
    return exitCode;
  } catch (e) {
    const exitCode = isLifeboatError(e) ? e.exitCode : 1;
    // Redacted here too: this line bypasses the logger (a tool's error text could echo a connection string).
    const message = redact(describeError(e));
    const fields = {
      ...baseFields,
      durationSeconds: round((ctx.now().getTime() - started) / 1000),
      errorCode: isLifeboatError(e) ? e.code : 'unexpected',
      exitCode,
    };
    logEvent(ctx.logger, events.failed, fields, message, 'error');
    // One clear line for a person, on stderr, besides the structured event.
    if (ctx.stderr.isTTY || ctx.env.LIFEBOAT_PLAIN_ERRORS !== '0') ctx.stderr.write(`lifeboat: ${message}\n`);
    if (!isLifeboatError(e) && ctx.env.LIFEBOAT_DEBUG) ctx.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
    await tellFinalEvent(ctx, { event: events.failed, severity: 'error', message, fields });
    return exitCode;
  }
}

/** Hands the final event to whoever listens (notifications, the scheduler); a listener's failure never changes the run's outcome. */
export async function tellFinalEvent(ctx: RunContext, event: FinalEvent): Promise<void> {
  if (!ctx.onFinalEvent) return;
  try {
    await ctx.onFinalEvent(event);
  } catch (e) {
    ctx.logger.warn(redact(`after ${event.event}: ${describeError(e)}`));
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/**
 * The figures every event about one backup carries: which backup (source, class, id) and its sizes. The infra's
 * log-based metrics and alerts read exactly these fields, so every command builds them here.
 */
export function backupEventFields(m: Manifest): Record<string, unknown> {
  return {
    [EVENT_FIELDS.source]: m.source,
    [EVENT_FIELDS.backupClass]: m.class,
    [EVENT_FIELDS.backupId]: m.id,
    [EVENT_FIELDS.bytes]: m.payload.storedBytes,
    [EVENT_FIELDS.rawBytes]: m.payload.rawBytes,
  };
}
