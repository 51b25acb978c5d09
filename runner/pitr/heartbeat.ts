/**
 * Heartbeats: a tiny table, `lifeboat.heartbeat`, that `lifeboat pitr heartbeat` (or a scheduled job) appends
 * to, so that a drill can check a point in time exactly: the last heartbeat written before the target must be in
 * the restored cluster and the first written after it must not. `at` is the row's clock time; its commit comes a
 * moment later, so a heartbeat counts as "before" only when written at least HEARTBEAT_MARGIN_SECONDS before the
 * target (recovery targets compare commit times).
 */
import type { Client } from 'pg';
import type { PitrDrillCheck } from './report';

export const HEARTBEAT_TABLE = 'lifeboat.heartbeat';
export const HEARTBEAT_MARGIN_SECONDS = 1;

export interface Heartbeat {
  id: string;
  at: Date;
}

export interface HeartbeatsAround {
  before: Heartbeat | null;
  after: Heartbeat | null;
}

export async function writeHeartbeat(client: Pick<Client, 'query'>): Promise<Heartbeat> {
  await client.query('CREATE SCHEMA IF NOT EXISTS lifeboat');
  await client.query(`CREATE TABLE IF NOT EXISTS ${HEARTBEAT_TABLE} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
  )`);
  const r = await client.query<{ id: string; at: Date }>(`INSERT INTO ${HEARTBEAT_TABLE} DEFAULT VALUES RETURNING id::text AS id, at`);
  return r.rows[0]!;
}

export async function hasHeartbeats(client: Pick<Client, 'query'>): Promise<boolean> {
  const r = await client.query<{ t: string | null }>(`SELECT to_regclass('${HEARTBEAT_TABLE}')::text AS t`);
  return r.rows[0]!.t !== null;
}

/** The last heartbeat safely before `target` and the first after it, on the source. */
export async function heartbeatsAround(client: Pick<Client, 'query'>, target: Date): Promise<HeartbeatsAround> {
  const before = await client.query<Heartbeat>(
    `SELECT id::text AS id, at FROM ${HEARTBEAT_TABLE} WHERE at <= $1::timestamptz - make_interval(secs => $2) ORDER BY at DESC LIMIT 1`,
    [target.toISOString(), HEARTBEAT_MARGIN_SECONDS],
  );
  const after = await client.query<Heartbeat>(`SELECT id::text AS id, at FROM ${HEARTBEAT_TABLE} WHERE at > $1::timestamptz ORDER BY at LIMIT 1`, [target.toISOString()]);
  return { before: before.rows[0] ?? null, after: after.rows[0] ?? null };
}

export async function heartbeatPresent(client: Pick<Client, 'query'>, id: string): Promise<boolean> {
  if (!(await hasHeartbeats(client))) return false;
  const r = await client.query(`SELECT 1 FROM ${HEARTBEAT_TABLE} WHERE id = $1::bigint`, [id]);
  return (r.rowCount ?? 0) > 0;
}

/**
 * The drills' "heartbeat before" and "heartbeat after" checks: looks up in the restored database (a self-hosted
 * drill's throwaway server, a managed drill's clone) the heartbeats `heartbeatsAround` found on the source,
 * `around` null when the source has no heartbeat table. A side with no heartbeat on the source (a target before
 * the first heartbeat, or after the last one written so far) has nothing to look up and passes.
 */
export async function checkRestoredHeartbeats(restored: Pick<Client, 'query'>, around: HeartbeatsAround | null): Promise<PitrDrillCheck[]> {
  if (!around) {
    const note = `no ${HEARTBEAT_TABLE} table on the source: run "lifeboat pitr heartbeat" on a schedule to check the point exactly`;
    return [
      { name: 'heartbeat before', ok: true, detail: note },
      { name: 'heartbeat after', ok: true, detail: note },
    ];
  }
  const b = around.before;
  const a = around.after;
  const bIn = b ? await heartbeatPresent(restored, b.id) : null;
  const aIn = a ? await heartbeatPresent(restored, a.id) : null;
  return [
    {
      name: 'heartbeat before',
      ok: bIn !== false,
      detail: b ? `heartbeat ${b.id} of ${new Date(b.at).toISOString()} ${bIn ? 'is there' : 'is MISSING'}` : 'no heartbeat before the target on the source',
    },
    {
      name: 'heartbeat after',
      ok: aIn !== true,
      detail: a ? `heartbeat ${a.id} of ${new Date(a.at).toISOString()} ${aIn ? 'is there but was written after the target' : 'is absent'}` : 'no heartbeat after the target on the source yet',
    },
  ];
}
