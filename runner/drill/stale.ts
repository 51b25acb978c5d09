/**
 * Scratch databases a drill left behind when it was killed (SIGKILL: an out-of-memory kill, a job deadline) and
 * never got to drop. While it runs, a drill holds a session-level advisory lock named after its scratch database
 * on a connection of its own; the server releases it when that session ends, however the process died. The next
 * drill with the same prefix drops every scratch database of the naming scheme whose lock it can take and that
 * no session is connected to (a drill between two steps still holds its lock), and says so.
 */
import type { Client } from 'pg';
import { connectPg, quoteIdent, withDatabase, type ConnInfo } from '../pg/connection';

/** The first key of the two-key advisory lock ("LBDR"), so the locks do not collide with an application's. */
const LOCK_CLASS = 0x4c424452;

/** Holds the lock of scratch database `name` until release() (or until the process dies). */
export async function holdScratchLock(server: ConnInfo, name: string, flag: string): Promise<{ release(): Promise<void> }> {
  const c = await connectPg(withDatabase(server, 'postgres'), flag);
  try {
    await c.query(`SELECT pg_advisory_lock($1, hashtext($2))`, [LOCK_CLASS, name]);
  } catch (e) {
    await c.end().catch(() => undefined);
    throw e;
  }
  return { release: () => c.end().catch(() => undefined) };
}

/** `<prefix>_<16 chars of UTC time>_<4 hex>`: names runner/drill/scratch.ts makes. */
export function isScratchName(prefix: string, name: string): boolean {
  if (!name.startsWith(`${prefix}_`)) return false;
  return /^\d{8}t\d{6}z_[0-9a-f]{4}$/.test(name.slice(prefix.length + 1));
}

async function tryLock(c: Client, name: string): Promise<boolean> {
  const r = await c.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok`, [LOCK_CLASS, name]);
  return r.rows[0]!.ok;
}

/** Drops the scratch databases of dead drills with this prefix; returns their names. `except`: this drill's own. */
export async function dropStaleScratch(server: ConnInfo, prefix: string, except: string, flag: string): Promise<string[]> {
  const c = await connectPg(withDatabase(server, 'postgres'), flag);
  try {
    const r = await c.query<{ name: string }>(
      `SELECT d.datname AS name FROM pg_database d
        WHERE d.datname LIKE $1 AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)
        ORDER BY 1`,
      [`${prefix.replace(/[\\%_]/g, '\\$&')}\\_%`],
    );
    const dropped: string[] = [];
    for (const { name } of r.rows) {
      if (name === except || !isScratchName(prefix, name)) continue;
      if (!(await tryLock(c, name))) continue;
      try {
        await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
        dropped.push(name);
      } finally {
        await c.query(`SELECT pg_advisory_unlock($1, hashtext($2))`, [LOCK_CLASS, name]);
      }
    }
    return dropped;
  } finally {
    await c.end().catch(() => undefined);
  }
}
