/**
 * Archiving health from pg_stat_archiver: the last WAL segment archived and how long ago, failures since. The
 * age of the last archived segment is the recovery point a restore can reach right now (the archive lag): WAL
 * written since is only on the server. `archive_timeout` bounds it on a quiet server; a lag well beyond it, or a
 * failure newer than the last success, means archiving has stalled.
 */
import type { Client } from 'pg';

export interface ArchiverStatus {
  archiveMode: string;
  archiveTimeoutSeconds: number;
  archivedCount: number;
  lastArchivedWal: string | null;
  lastArchivedAt: Date | null;
  failedCount: number;
  lastFailedWal: string | null;
  lastFailedAt: Date | null;
  /** The server's clock when asked. */
  now: Date;
  /** Seconds since the last segment was archived; null when none ever was. */
  lagSeconds: number | null;
  /** The last attempt failed (a failure newer than the last success). */
  failing: boolean;
}

export async function archiverStatus(client: Pick<Client, 'query'>): Promise<ArchiverStatus> {
  const r = await client.query<{
    mode: string; timeout: string; archived_count: string; last_archived_wal: string | null; last_archived_time: Date | null;
    failed_count: string; last_failed_wal: string | null; last_failed_time: Date | null; now: Date;
  }>(`SELECT current_setting('archive_mode') AS mode, extract(epoch FROM current_setting('archive_timeout')::interval)::text AS timeout,
             archived_count::text, last_archived_wal, last_archived_time, failed_count::text, last_failed_wal, last_failed_time,
             clock_timestamp() AS now
        FROM pg_stat_archiver`);
  const x = r.rows[0]!;
  const lastArchivedAt = x.last_archived_time;
  const lastFailedAt = x.last_failed_time;
  return {
    archiveMode: x.mode,
    archiveTimeoutSeconds: Number(x.timeout),
    archivedCount: Number(x.archived_count),
    lastArchivedWal: x.last_archived_wal,
    lastArchivedAt,
    failedCount: Number(x.failed_count),
    lastFailedWal: x.last_failed_wal,
    lastFailedAt,
    now: x.now,
    lagSeconds: lastArchivedAt ? Math.max(0, (x.now.getTime() - lastArchivedAt.getTime()) / 1000) : null,
    failing: !!lastFailedAt && (!lastArchivedAt || lastFailedAt > lastArchivedAt),
  };
}

/**
 * Why archiving is unhealthy, or null. Stalled: nothing archived for longer than `maxLagSeconds` (by default
 * three archive_timeouts, at least five minutes) or the last attempt failed.
 */
export function archiverProblem(s: ArchiverStatus, maxLagSeconds?: number): string | null {
  if (s.archiveMode === 'off') return 'archive_mode is off';
  if (s.failing) return `archiving fails: ${s.lastFailedWal} could not be archived (${s.failedCount} failures since the statistics reset)`;
  const limit = maxLagSeconds ?? Math.max(300, 3 * (s.archiveTimeoutSeconds || 0));
  if (s.lagSeconds === null) return 'no WAL segment has been archived yet';
  if (s.lagSeconds > limit) return `archiving stalled: the last segment (${s.lastArchivedWal}) was archived ${Math.round(s.lagSeconds)}s ago, more than ${limit}s`;
  return null;
}
