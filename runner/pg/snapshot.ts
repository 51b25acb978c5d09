/**
 * The snapshot a dump is taken in: a REPEATABLE READ transaction on the runner's own connection exports it, pg_dump
 * reads through it (--snapshot), and the row counts are taken in it, so the counts and the dump agree exactly. The
 * transaction must stay open until pg_dump has exited (the backup and clone keep the connection until then).
 */
import type { Client } from 'pg';

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
