/**
 * The roles a restore needs on its target (recorded in the backup's globals: runner/pg/globals.ts). Checked before
 * anything is created: without `--roles` a target that lacks a required role is refused, naming them; with it,
 * the roles the target lacks are created, in one transaction, before the restore, and dropped again if the
 * restore fails. An existing role is never altered: its attributes, settings and memberships stay as they are
 * (a membership is granted only to a role the restore created).
 */
import type { Client } from 'pg';
import type { Globals, GlobalRole } from '../contract/globals';
import { usageError, runtimeError } from '../errors';
import { connectPg, quoteIdent, type ConnInfo } from '../pg/connection';
import { createRoleSql, grantMembershipSql, roleDetailsSql } from '../pg/globals';

export interface RoleCheck {
  /** Recorded roles the target lacks. */
  missing: GlobalRole[];
  /** Of those, the ones the restore cannot do without. */
  missingRequired: GlobalRole[];
}

async function existingRoles(c: Pick<Client, 'query'>, names: string[]): Promise<Set<string>> {
  const r = await c.query<{ name: string }>(`SELECT rolname AS name FROM pg_roles WHERE rolname = ANY($1)`, [names]);
  return new Set(r.rows.map((x) => x.name));
}

/** Which recorded roles the target server lacks. */
export async function checkRoles(conn: ConnInfo, flag: string, globals: Globals): Promise<RoleCheck> {
  const c = await connectPg(conn, flag);
  try {
    const have = await existingRoles(c, globals.roles.map((r) => r.name));
    const missing = globals.roles.filter((r) => !have.has(r.name));
    return { missing, missingRequired: missing.filter((r) => r.required) };
  } finally {
    await c.end().catch(() => undefined);
  }
}

const describe = (r: GlobalRole): string => `${r.name} (${r.referencedAs.join(', ')})`;

/** The refusal of a target that lacks roles the restore needs, before anything is created. */
export function missingRolesError(check: RoleCheck, conn: ConnInfo): Error {
  const names = check.missingRequired.map(describe);
  return usageError(
    'roles_missing',
    `the target server ${conn.host}:${conn.port} lacks ${names.length === 1 ? 'a role' : `${names.length} roles`} the backup's objects name: ${names.join(', ')}; nothing was changed`,
    'Pass --roles to create the missing roles first (existing roles are never altered), or create them by hand',
  );
}

/**
 * Creates the recorded roles the target lacks, with their attributes, settings, comments and the memberships
 * whose member is one of them, all in one transaction: either every one is created or none. Returns their names.
 */
export async function createMissingRoles(conn: ConnInfo, flag: string, globals: Globals, check: RoleCheck): Promise<string[]> {
  if (!check.missing.length) return [];
  const c = await connectPg(conn, flag);
  try {
    const version = Number((await c.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v);
    const created = new Set(check.missing.map((r) => r.name));
    // Handing an object to a role (ALTER ... OWNER TO, the database's owner) takes membership in it (with SET from
    // PostgreSQL 16). A superuser needs none, but a managed server's restore user (Cloud SQL, RDS) is not one, and
    // CREATE ROLE gives a creator that is not a superuser only ADMIN on the new role. So such a restore user becomes
    // a member of each role it creates, and restores owners and grants as a superuser would: from 16 through the
    // server's own createrole_self_grant (set for this transaction only), before 16 by granting each role to itself
    // (CREATEROLE may grant any role that is not a superuser).
    const su = await c.query<{ super: boolean }>(`SELECT rolsuper AS super FROM pg_roles WHERE rolname = current_user`);
    const selfGrant = !su.rows[0]?.super;
    await c.query('BEGIN');
    try {
      if (selfGrant && version >= 160000) await c.query(`SET LOCAL createrole_self_grant = 'set, inherit'`);
      for (const role of check.missing) {
        await c.query(createRoleSql(role));
        for (const sql of roleDetailsSql(role)) await c.query(sql);
      }
      const have = await existingRoles(c, [...new Set(globals.memberships.map((m) => m.role))]);
      for (const m of globals.memberships) {
        if (created.has(m.member) && have.has(m.role)) await c.query(grantMembershipSql(m, version));
      }
      if (selfGrant && version < 160000) {
        for (const name of created) await c.query(`GRANT ${quoteIdent(name)} TO CURRENT_USER`);
      }
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      const err = e as { code?: string; message?: string };
      // Attributes only a superuser may give (SUPERUSER, REPLICATION, BYPASSRLS) are the likely cause on a managed server.
      throw runtimeError(
        err.code === '42501' ? 'roles_denied' : 'roles_failed',
        `creating the missing roles ${[...created].join(', ')} on ${conn.host}:${conn.port} failed: ${err.message ?? String(e)}; none was created`,
        err.code === '42501' ? `User "${conn.user}" needs CREATEROLE (and superuser for SUPERUSER, REPLICATION or BYPASSRLS roles): create those roles by hand` : undefined,
        e,
      );
    }
    return [...created];
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Drops roles a failed restore created; says what could not be dropped. */
export async function dropCreatedRoles(conn: ConnInfo, flag: string, names: readonly string[]): Promise<string> {
  if (!names.length) return '';
  const left: string[] = [];
  const c = await connectPg(conn, flag);
  try {
    for (const name of names) {
      try {
        await c.query(`DROP ROLE IF EXISTS ${quoteIdent(name)}`);
      } catch {
        left.push(name);
      }
    }
  } finally {
    await c.end().catch(() => undefined);
  }
  const dropped = names.filter((n) => !left.includes(n));
  return [
    dropped.length ? `the roles it created (${dropped.join(', ')}) were dropped` : '',
    left.length ? `the roles ${left.join(', ')} it created still own objects and were kept` : '',
  ].filter(Boolean).join('; ');
}
