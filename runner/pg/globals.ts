/**
 * The roles a database references, read from the catalogs in the dump's own snapshot (runner/contract/globals.ts
 * describes what is recorded and why).
 *
 * Why the catalogs and not `pg_dumpall --globals-only`: pg_dumpall writes every role of the cluster, not the ones
 * this database uses, and its SQL would have to be parsed to be filtered; it runs in a snapshot of its own, so a
 * role created or dropped during the dump could disagree with the archive; and it is one more process and
 * connection. The shared catalogs (pg_authid's view pg_roles, pg_auth_members, pg_shdepend, pg_db_role_setting)
 * are read through the backup's REPEATABLE READ transaction, so the roles are those of the archive's instant. The
 * SQL to recreate them is generated as pg_dumpall writes it (runner/pg/guc-sql.ts for settings).
 *
 * Which roles: pg_shdepend records every owner, ACL grantee (default privileges included) and policy role of the
 * database's objects, except the bootstrap superuser (pinned: never recorded), whose ownership is looked up in
 * the main catalogs instead. Add the database's owner and ACL grantees and the roles with settings in it. Then
 * the roles those are members of (their privileges reach the database through them) and the members of those
 * (login roles that work through a group: a DR restore needs its users), transitively. Predefined roles (pg_*)
 * exist on every server and are never recorded; memberships in them are.
 */
import type { Client } from 'pg';
import { usageError } from '../errors';
import { registerSecret } from '../redact';
import type { GlobalMembership, GlobalRole, RoleReference } from '../contract/globals';
import { quoteIdent } from './connection';
import { quoteLiteral, setClause } from './guc-sql';

const notExtensionMember = (catalog: string): string =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${catalog}'::regclass AND d.objid = o.oid AND d.deptype = 'e')`;

/** The roles the current database references, as of the client's transaction snapshot. */
async function referencedRoles(client: Pick<Client, 'query'>): Promise<Map<string, Set<RoleReference>>> {
  const r = await client.query<{ name: string; why: RoleReference }>(`
    WITH db AS (SELECT oid, datdba, datacl FROM pg_database WHERE datname = current_database()),
    refs(role, why) AS (
      SELECT s.refobjid, CASE s.deptype WHEN 'o' THEN 'owner' WHEN 'r' THEN 'policy' ELSE 'grantee' END
        FROM pg_shdepend s, db
       WHERE s.refclassid = 'pg_authid'::regclass
         AND (s.dbid = db.oid OR (s.dbid = 0 AND s.classid = 'pg_database'::regclass AND s.objid = db.oid))
      UNION SELECT datdba, 'owner' FROM db
      UNION SELECT a.grantee, 'grantee' FROM db, aclexplode(db.datacl) a WHERE a.grantee <> 0
      UNION SELECT s.setrole, 'setting' FROM pg_db_role_setting s, db WHERE s.setdatabase = db.oid AND s.setrole <> 0
      -- The bootstrap superuser is pinned: pg_shdepend never records it. Objects of extensions do not count:
      -- pg_dump writes no owner for them.
      UNION SELECT 10, 'owner' WHERE EXISTS (SELECT 1 FROM pg_namespace o WHERE nspowner = 10 AND oid >= 16384 AND ${notExtensionMember('pg_namespace')})
         OR EXISTS (SELECT 1 FROM pg_class o WHERE relowner = 10 AND oid >= 16384 AND ${notExtensionMember('pg_class')})
         OR EXISTS (SELECT 1 FROM pg_proc o WHERE proowner = 10 AND oid >= 16384 AND ${notExtensionMember('pg_proc')})
         OR EXISTS (SELECT 1 FROM pg_type o WHERE typowner = 10 AND oid >= 16384 AND ${notExtensionMember('pg_type')})
         OR EXISTS (SELECT 1 FROM pg_largeobject_metadata WHERE lomowner = 10)
    )
    SELECT r.rolname AS name, refs.why FROM refs JOIN pg_roles r ON r.oid = refs.role
     WHERE r.rolname NOT LIKE 'pg\\_%'`);
  const out = new Map<string, Set<RoleReference>>();
  for (const row of r.rows) {
    if (!out.has(row.name)) out.set(row.name, new Set());
    out.get(row.name)!.add(row.why);
  }
  return out;
}

interface MembershipRow {
  role: string;
  member: string;
  admin: boolean;
  inherit: boolean | null;
  set: boolean | null;
}

async function allMemberships(client: Pick<Client, 'query'>, serverVersionNum: number): Promise<MembershipRow[]> {
  // PostgreSQL 16 added per-grant INHERIT and SET options.
  const options = serverVersionNum >= 160000 ? 'm.inherit_option AS inherit, m.set_option AS set' : 'NULL::boolean AS inherit, NULL::boolean AS set';
  const r = await client.query<MembershipRow>(
    `SELECT g.rolname AS role, u.rolname AS member, m.admin_option AS admin, ${options}
       FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member`,
  );
  return r.rows;
}

const isPredefined = (name: string): boolean => name.startsWith('pg_');

/**
 * The closure of `referenced` over memberships: the roles they are members of (required: their privileges
 * reach the database through them), then the members of any of those (recorded, not required).
 */
export function closeOverMemberships(
  referenced: Map<string, Set<RoleReference>>,
  memberships: readonly MembershipRow[],
): { roles: Map<string, { why: Set<RoleReference>; required: boolean }>; memberships: MembershipRow[] } {
  const roles = new Map<string, { why: Set<RoleReference>; required: boolean }>();
  for (const [name, why] of referenced) roles.set(name, { why: new Set(why), required: true });
  const add = (name: string, why: RoleReference, required: boolean): boolean => {
    if (isPredefined(name)) return false;
    const known = roles.get(name);
    if (known) {
      // A required role reached again downward is not "only a member".
      if (required) known.why.add(why);
      return false;
    }
    roles.set(name, { why: new Set([why]), required });
    return true;
  };
  // Upward: groups of required roles are required.
  for (let grew = true; grew; ) {
    grew = false;
    for (const m of memberships) if (roles.get(m.member)?.required && add(m.role, 'member-of-referenced', true)) grew = true;
  }
  // Downward: members of any recorded role, transitively.
  for (let grew = true; grew; ) {
    grew = false;
    for (const m of memberships) if (roles.has(m.role) && add(m.member, 'member', false)) grew = true;
  }
  const kept = memberships.filter((m) => roles.has(m.member) && (roles.has(m.role) || isPredefined(m.role)));
  return { roles, memberships: kept };
}

interface RoleRow {
  name: string;
  superuser: boolean;
  inherit: boolean;
  createrole: boolean;
  createdb: boolean;
  login: boolean;
  replication: boolean;
  bypassrls: boolean;
  connlimit: number;
  validuntil: Date | null;
  settings: string[] | null;
  comment: string | null;
}

/**
 * Whether this session may read password hashes. Managed servers (Cloud SQL, RDS, Azure) let no role read
 * pg_authid, so their roles can only be recorded without passwords.
 */
export async function canReadPasswords(client: Pick<Client, 'query'>): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>(`SELECT has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS ok`);
  return r.rows[0]!.ok;
}

/**
 * The roles and memberships the current database needs, read in the client's open transaction (the dump's
 * snapshot). `passwords`: include password hashes; the caller has checked canReadPasswords.
 */
export async function readRoles(
  client: Pick<Client, 'query'>,
  serverVersionNum: number,
  opts: { passwords: boolean; user: string },
): Promise<{ roles: GlobalRole[]; memberships: GlobalMembership[] }> {
  if (opts.passwords && !(await canReadPasswords(client))) {
    throw usageError(
      'role_passwords_unreadable',
      `--role-passwords: user "${opts.user}" may not read pg_authid on this server, so role password hashes cannot be backed up (managed servers such as Cloud SQL and RDS let no role read them); nothing was written`,
      'Drop --role-passwords: roles are then recorded without passwords, and restore --roles creates them without one (set them afterwards with ALTER ROLE ... PASSWORD)',
    );
  }
  const closed = closeOverMemberships(await referencedRoles(client), await allMemberships(client, serverVersionNum));
  const names = [...closed.roles.keys()].sort();
  const rows = await client.query<RoleRow>(
    `SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolinherit AS inherit, r.rolcreaterole AS createrole,
            r.rolcreatedb AS createdb, r.rolcanlogin AS login, r.rolreplication AS replication, r.rolbypassrls AS bypassrls,
            r.rolconnlimit AS connlimit, r.rolvaliduntil AS validuntil,
            (SELECT s.setconfig FROM pg_db_role_setting s WHERE s.setrole = r.oid AND s.setdatabase = 0) AS settings,
            shobj_description(r.oid, 'pg_authid') AS comment
       FROM pg_roles r WHERE r.rolname = ANY($1) ORDER BY r.rolname`,
    [names],
  );
  const passwords = new Map<string, string>();
  if (opts.passwords) {
    const p = await client.query<{ name: string; password: string | null }>(`SELECT rolname AS name, rolpassword AS password FROM pg_authid WHERE rolname = ANY($1)`, [names]);
    for (const row of p.rows) {
      if (row.password === null) continue;
      registerSecret(row.password);
      passwords.set(row.name, row.password);
    }
  }
  const roles = rows.rows.map((row): GlobalRole => {
    const meta = closed.roles.get(row.name)!;
    const password = passwords.get(row.name);
    return {
      name: row.name,
      superuser: row.superuser,
      inherit: row.inherit,
      createRole: row.createrole,
      createDb: row.createdb,
      login: row.login,
      replication: row.replication,
      bypassRls: row.bypassrls,
      connectionLimit: row.connlimit,
      // 'infinity' comes back as a Date of Infinity.
      validUntil: row.validuntil && Number.isFinite(row.validuntil.getTime()) ? row.validuntil.toISOString() : null,
      ...(password !== undefined ? { password } : {}),
      settings: row.settings ?? [],
      comment: row.comment,
      referencedAs: [...meta.why].sort(),
      required: meta.required,
    };
  });
  const memberships = closed.memberships
    .map((m): GlobalMembership => ({
      role: m.role,
      member: m.member,
      adminOption: m.admin,
      ...(m.inherit !== null ? { inheritOption: m.inherit } : {}),
      ...(m.set !== null ? { setOption: m.set } : {}),
    }))
    .sort((a, b) => a.role.localeCompare(b.role) || a.member.localeCompare(b.member));
  return { roles, memberships };
}

/** CREATE ROLE with the recorded attributes (and password hash, when recorded), as pg_dumpall writes it. */
export function createRoleSql(role: GlobalRole): string {
  const flag = (on: boolean, word: string): string => (on ? word : `NO${word}`);
  const parts = [
    `CREATE ROLE ${quoteIdent(role.name)} WITH`,
    flag(role.superuser, 'SUPERUSER'),
    flag(role.inherit, 'INHERIT'),
    flag(role.createRole, 'CREATEROLE'),
    flag(role.createDb, 'CREATEDB'),
    flag(role.login, 'LOGIN'),
    flag(role.replication, 'REPLICATION'),
    flag(role.bypassRls, 'BYPASSRLS'),
  ];
  if (role.connectionLimit !== -1) parts.push(`CONNECTION LIMIT ${role.connectionLimit}`);
  if (role.password !== undefined) parts.push(`PASSWORD ${quoteLiteral(role.password)}`);
  if (role.validUntil !== null) parts.push(`VALID UNTIL ${quoteLiteral(role.validUntil)}`);
  return parts.join(' ');
}

/** The role's own settings and comment, after CREATE ROLE. */
export function roleDetailsSql(role: GlobalRole): string[] {
  const out = role.settings.map((s) => `ALTER ROLE ${quoteIdent(role.name)} ${setClause(s)}`);
  if (role.comment !== null) out.push(`COMMENT ON ROLE ${quoteIdent(role.name)} IS ${quoteLiteral(role.comment)}`);
  return out;
}

/** GRANT role TO member, with the options the target's version knows (INHERIT and SET from 16). */
export function grantMembershipSql(m: GlobalMembership, targetVersionNum: number): string {
  const options: string[] = [];
  if (targetVersionNum >= 160000) {
    if (m.adminOption) options.push('ADMIN TRUE');
    if (m.inheritOption !== undefined) options.push(`INHERIT ${m.inheritOption ? 'TRUE' : 'FALSE'}`);
    if (m.setOption !== undefined) options.push(`SET ${m.setOption ? 'TRUE' : 'FALSE'}`);
    return `GRANT ${quoteIdent(m.role)} TO ${quoteIdent(m.member)}${options.length ? ` WITH ${options.join(', ')}` : ''}`;
  }
  return `GRANT ${quoteIdent(m.role)} TO ${quoteIdent(m.member)}${m.adminOption ? ' WITH ADMIN OPTION' : ''}`;
}
