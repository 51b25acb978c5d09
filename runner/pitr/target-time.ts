/**
 * Recovery target times. A time without a zone is refused: during an incident "14:31" in the wrong zone is an
 * hour of lost or extra changes. pgBackRest and PostgreSQL both read `YYYY-MM-DD HH:MM:SS.mmm+00`.
 */
import { usageError } from '../errors';

export function parseTargetTime(flag: string, value: string, now: Date): Date {
  const v = value.trim();
  if (!/(Z|[+-]\d\d(:?\d\d)?)$/i.test(v)) {
    throw usageError('target_time_invalid', `${flag} expected a time with a zone, like 2026-12-07T14:31:00Z or 2026-12-07 14:31:00+01, got ${JSON.stringify(value)}`);
  }
  const ms = Date.parse(v.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
  if (!Number.isFinite(ms)) throw usageError('target_time_invalid', `${flag} expected a time like 2026-12-07T14:31:00Z, got ${JSON.stringify(value)}`);
  const t = new Date(ms);
  if (t > now) throw usageError('target_time_future', `${flag} is in the future (${t.toISOString()}, now ${now.toISOString()})`);
  return t;
}

/** The form pgBackRest's --target and recovery_target_time take. */
export function pgTime(t: Date): string {
  return t.toISOString().replace('T', ' ').replace('Z', '+00');
}
