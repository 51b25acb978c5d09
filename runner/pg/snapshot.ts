/**
 * The snapshot a dump is taken in: a REPEATABLE READ transaction on the runner's own connection exports it, pg_dump
 * reads through it (--snapshot), and the row counts are taken in it, so the counts and the dump agree exactly. The
 * transaction must stay open until pg_dump has exited (the backup and clone keep the connection until then).
 */
import type { Client } from 'pg';
import { LifeboatError, runtimeError } from '../errors';
import { describeConn, type ConnInfo } from './connection';

/** An exported snapshot in an open REPEATABLE READ transaction (clone reuses it). */
export interface Snapshot {
  id: string;
  at: Date;
  serverVersion: string;
  serverVersionNum: number;
  databaseSize: number;
}

export async function openSnapshot(client: Client): Promise<Snapshot> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  const r = await client.query<{ snap: string; at: Date; v: string; vn: string; size: string }>(
    `SELECT pg_export_snapshot() AS snap, now() AS at, current_setting('server_version') AS v,
            current_setting('server_version_num') AS vn, pg_database_size(current_database()) AS size`,
  );
  const row = r.rows[0]!;
  return {
    id: row.snap,
    at: row.at,
    serverVersion: row.v.split(' ')[0]!,
    serverVersionNum: Number(row.vn),
    databaseSize: Number(row.size),
  };
}

/** SQLSTATEs of a session ended by the server (terminated, shut down, idle-in-transaction timeout) or lost. */
const SESSION_ENDED = new Set(['57P01', '57P02', '57P03', '25P03', '08000', '08003', '08006']);

/**
 * The snapshot session's end as an error that says which connection it was and what it was doing (the pg client
 * alone says "Client has encountered a connection error and is not queryable"). Other errors pass through.
 */
export function snapshotSessionLost(e: unknown, conn: ConnInfo, doing: string): unknown {
  if (e instanceof LifeboatError) return e;
  const err = e as { code?: string; message?: string };
  const lost = (err.code !== undefined && SESSION_ENDED.has(err.code)) || /connection (error|terminated)|not queryable|terminating connection/i.test(err.message ?? '');
  if (!lost) return e;
  return runtimeError(
    'snapshot_session_lost',
    `the backup's snapshot session (its connection to ${describeConn(conn)}, application_name lifeboat, which holds the dump's snapshot open) ended while ${doing}: ${err.message ?? String(e)}; no manifest was written`,
    'Something ended that session: pg_terminate_backend, a server restart, idle_in_transaction_session_timeout (the session is idle in a transaction while pg_dump runs), or a proxy. A retry may help',
    e,
  );
}
