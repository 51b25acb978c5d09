/**
 * The database itself, as `pg_restore --create` restores it: encoding and locale (at CREATE DATABASE), owner,
 * connection limit, comment, ACL, `ALTER DATABASE ... SET` and `ALTER ROLE ... IN DATABASE ... SET`.
 *
 * The archive holds these too (its DATABASE, DATABASE PROPERTIES and database ACL entries), but pg_restore
 * applies them only with its own --create, which always uses the source's database name and connects through
 * it; a restore may name the database anew. So they are read from the catalogs in the dump's snapshot, recorded
 * in the globals object, and applied here by name. The grants are rebuilt from the ACL's items rather than
 * diffed against the default ACL as pg_dump does: every privilege of the source is granted again and the
 * defaults revoked first, which yields the same ACL (grantors aside: the owner grants them all).
 */
import type { Client } from 'pg';
import type { DatabaseProperties } from '../contract/globals';
import { quoteIdent } from './connection';
import { quoteLiteral, setClause } from './guc-sql';

type Query = Pick<Client, 'query'>;

/** The current database's properties, in the client's open transaction (the dump's snapshot). */
export async function readDatabaseProperties(client: Query): Promise<DatabaseProperties> {
  // to_jsonb takes whatever columns this server version has: datlocprovider and daticulocale (15),
  // daticurules (16), datlocale (17, replacing daticulocale).
  const r = await client.query<{ d: Record<string, unknown>; owner: string; encoding: string; comment: string | null }>(
    `SELECT to_jsonb(d) - 'datacl' AS d, pg_get_userbyid(d.datdba) AS owner, pg_encoding_to_char(d.encoding) AS encoding,
            shobj_description(d.oid, 'pg_database') AS comment
       FROM pg_database d WHERE d.datname = current_database()`,
  );
  const row = r.rows[0]!;
  const d = row.d;
  const provider = ({ c: 'libc', i: 'icu', b: 'builtin' } as const)[String(d.datlocprovider ?? 'c') as 'c' | 'i' | 'b'] ?? 'libc';
  const acl = await client.query<{ grantee: string | null; privilege: string; grantable: boolean; hasacl: boolean }>(
    `SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END AS grantee, a.privilege_type AS privilege, a.is_grantable AS grantable
       FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = current_database()
      ORDER BY 1 NULLS FIRST, 2`,
  );
  const hasAcl = await client.query<{ has: boolean }>(`SELECT datacl IS NOT NULL AS has FROM pg_database WHERE datname = current_database()`);
  const settings = await client.query<{ role: string | null; config: string[] }>(
    `SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END AS role, s.setconfig AS config
       FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = current_database()
      ORDER BY 1 NULLS FIRST`,
  );
  const locale = (d.datlocale ?? d.daticulocale ?? null) as string | null;
  return {
    name: String(d.datname),
    owner: row.owner,
    encoding: row.encoding,
    localeProvider: provider,
    collate: String(d.datcollate),
    ctype: String(d.datctype),
    locale: provider === 'libc' ? null : locale,
    icuRules: (d.daticurules ?? null) as string | null,
    connectionLimit: Number(d.datconnlimit),
    acl: hasAcl.rows[0]!.has ? acl.rows.map((a) => ({ grantee: a.grantee, privilege: a.privilege, grantable: a.grantable })) : null,
    comment: row.comment,
    settings: settings.rows.find((s) => s.role === null)?.config ?? [],
    roleSettings: settings.rows.filter((s) => s.role !== null).map((s) => ({ role: s.role!, settings: s.config })),
  };
}

/**
 * CREATE DATABASE as pg_dump writes it: from template0, with the source's encoding and locale. `serverVersionNum`
 * is the target's (LOCALE_PROVIDER exists from 15, ICU_RULES from 16, a builtin provider from 17). `localeOverride`:
 * the locale to use instead (restore --allow-locale-change), null to keep the source's.
 */
export function createDatabaseSql(name: string, props: DatabaseProperties, serverVersionNum: number, localeOverride: { collate: string; ctype: string } | null): string {
  const parts = [`CREATE DATABASE ${quoteIdent(name)} WITH TEMPLATE = template0 ENCODING = ${quoteLiteral(props.encoding)}`];
  if (localeOverride) {
    if (serverVersionNum >= 150000) parts.push(`LOCALE_PROVIDER = libc`);
    parts.push(`LC_COLLATE = ${quoteLiteral(localeOverride.collate)} LC_CTYPE = ${quoteLiteral(localeOverride.ctype)}`);
    return parts.join(' ');
  }
  if (serverVersionNum >= 150000) parts.push(`LOCALE_PROVIDER = ${props.localeProvider}`);
  parts.push(`LC_COLLATE = ${quoteLiteral(props.collate)} LC_CTYPE = ${quoteLiteral(props.ctype)}`);
  if (props.localeProvider === 'icu' && props.locale !== null) parts.push(`ICU_LOCALE = ${quoteLiteral(props.locale)}`);
  if (props.localeProvider === 'builtin' && props.locale !== null) parts.push(`BUILTIN_LOCALE = ${quoteLiteral(props.locale)}`);
  if (props.icuRules !== null && serverVersionNum >= 160000) parts.push(`ICU_RULES = ${quoteLiteral(props.icuRules)}`);
  return parts.join(' ');
}

/**
 * The statements that give a restored database its source's properties (owner, connection limit, comment, ACL,
 * settings), run once the restore is in: a setting such as default_transaction_read_only must not act on the
 * restore's own sessions, and a revoked CONNECT must not lock out its checks.
 */
export function databasePropertiesSql(name: string, props: DatabaseProperties, opts: { setOwner: boolean } = { setOwner: true }): string[] {
  const db = quoteIdent(name);
  const out: string[] = opts.setOwner ? [`ALTER DATABASE ${db} OWNER TO ${quoteIdent(props.owner)}`] : [];
  if (props.connectionLimit !== -1) out.push(`ALTER DATABASE ${db} CONNECTION LIMIT = ${props.connectionLimit}`);
  if (props.comment !== null) out.push(`COMMENT ON DATABASE ${db} IS ${quoteLiteral(props.comment)}`);
  if (props.acl !== null) {
    // From the default ACL (PUBLIC: CONNECT, TEMPORARY; the owner: all) to the source's, item by item.
    out.push(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
    if (opts.setOwner) out.push(`REVOKE ALL ON DATABASE ${db} FROM ${quoteIdent(props.owner)}`);
    for (const a of props.acl) {
      out.push(`GRANT ${a.privilege} ON DATABASE ${db} TO ${a.grantee === null ? 'PUBLIC' : quoteIdent(a.grantee)}${a.grantable ? ' WITH GRANT OPTION' : ''}`);
    }
  }
  for (const s of props.settings) out.push(`ALTER DATABASE ${db} ${setClause(s)}`);
  for (const r of props.roleSettings) for (const s of r.settings) out.push(`ALTER ROLE ${quoteIdent(r.role)} IN DATABASE ${db} ${setClause(s)}`);
  return out;
}

