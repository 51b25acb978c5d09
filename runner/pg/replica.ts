/**
 * `backup --prefer-replica URL --max-lag 60s`: dump from a streaming replica when it is close enough to the
 * primary, else from the primary. A replica is used only when all of these hold; otherwise the backup falls
 * back to the primary and a warning says why (a backup from the primary is always better than none):
 *
 * - it answers (unreachable, refused logins and timeouts fall back);
 * - it is a standby (pg_is_in_recovery()) of this primary (same pg_control_system().system_identifier, when
 *   the role may read it);
 * - its replay lag is within the bound. Lag is 0 when the WAL receiver is streaming and everything received
 *   has been replayed; else now() - pg_last_xact_replay_timestamp(). That is conservative: a standby whose
 *   receiver is not streaming (or whose role may not see pg_stat_wal_receiver) counts the time since the last
 *   replayed commit, so on a quiet primary it may fall back although it is current.
 *
 * pg_export_snapshot() works on a standby (PostgreSQL 10+), so the dump and its row counts stay consistent.
 * Long dumps on a standby can be cancelled by recovery conflicts: give the backup role's replica
 * hot_standby_feedback = on or a generous max_standby_streaming_delay.
 */
import type { Client } from 'pg';
import type { Logger } from '../log';
import { describeError } from '../errors';
import { connectPg, describeConn, type ConnInfo } from './connection';

export interface ReplicaProbe {
  standby: boolean;
  /** Replay lag in seconds; null when it cannot be told (nothing replayed yet). */
  lagSeconds: number | null;
  /** pg_control_system().system_identifier; null when the role may not read it. */
  systemIdentifier: string | null;
}

export interface SourceChoice {
  conn: ConnInfo;
  role: 'primary' | 'replica';
  /** The replica's replay lag when it was chosen; null for the primary. */
  lagSeconds: number | null;
  /** Why the replica was not used; null when it was. */
  fallbackReason: string | null;
}

const PROBE_SQL = `
  SELECT pg_is_in_recovery() AS standby,
         coalesce(pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), false) AS caught_up,
         coalesce((SELECT status = 'streaming' FROM pg_stat_wal_receiver), false) AS streaming,
         EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS since_replay`;

async function systemIdentifier(client: Pick<Client, 'query'>): Promise<string | null> {
  try {
    const r = await client.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()');
    return r.rows[0]?.id ?? null;
  } catch {
    return null; // not permitted for this role: the check is skipped
  }
}

export async function probeReplica(conn: ConnInfo, what = '--prefer-replica'): Promise<ReplicaProbe> {
  const c = await connectPg(conn, what);
  try {
    const r = await c.query<{ standby: boolean; caught_up: boolean; streaming: boolean; since_replay: number | null }>(PROBE_SQL);
    const row = r.rows[0]!;
    const lagSeconds = row.caught_up && row.streaming ? 0 : row.since_replay === null ? null : Math.max(0, Math.round(row.since_replay * 1000) / 1000);
    return { standby: row.standby, lagSeconds, systemIdentifier: await systemIdentifier(c) };
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Pure: whether a probed replica may be used; the reason when not. */
export function replicaVerdict(probe: ReplicaProbe, maxLagSeconds: number, primarySystemIdentifier: string | null): string | null {
  if (!probe.standby) return 'it is not a standby (pg_is_in_recovery() is false)';
  if (probe.systemIdentifier && primarySystemIdentifier && probe.systemIdentifier !== primarySystemIdentifier) {
    return `it is not a replica of the primary (system identifier ${probe.systemIdentifier}, primary ${primarySystemIdentifier})`;
  }
  if (probe.lagSeconds === null) return 'its replay lag cannot be told (no transaction replayed yet)';
  if (probe.lagSeconds > maxLagSeconds) return `its replay lag ${probe.lagSeconds}s exceeds --max-lag ${maxLagSeconds}s`;
  return null;
}

/** The primary's system identifier, or null when it cannot be read (the backup's own connection reports why). */
async function primarySystemIdentifier(primary: ConnInfo): Promise<string | null> {
  try {
    const c = await connectPg(primary, '--database-url');
    try {
      return await systemIdentifier(c);
    } finally {
      await c.end().catch(() => undefined);
    }
  } catch {
    return null;
  }
}

export async function chooseSource(primary: ConnInfo, replica: ConnInfo, maxLagSeconds: number, logger: Logger): Promise<SourceChoice> {
  let reason: string | null = null;
  let probe: ReplicaProbe | null = null;
  try {
    probe = await probeReplica(replica);
  } catch (e) {
    reason = `it cannot be reached or queried (${describeError(e)})`;
  }
  if (probe) reason = replicaVerdict(probe, maxLagSeconds, probe.systemIdentifier ? await primarySystemIdentifier(primary) : null);
  if (reason === null) {
    logger.info({ replica: describeConn(replica), replicaLagSeconds: probe!.lagSeconds }, `dumping from replica ${describeConn(replica)} (replay lag ${probe!.lagSeconds}s)`);
    return { conn: replica, role: 'replica', lagSeconds: probe!.lagSeconds, fallbackReason: null };
  }
  logger.warn({ replica: describeConn(replica) }, `not dumping from replica ${describeConn(replica)}: ${reason}; dumping from the primary ${describeConn(primary)} instead`);
  return { conn: primary, role: 'primary', lagSeconds: null, fallbackReason: reason };
}
