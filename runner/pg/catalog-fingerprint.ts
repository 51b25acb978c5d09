/**
 * A fingerprint of a database's catalog: every user object by kind and name, with its owner and what grants,
 * policies, triggers and constraints say about it. Taken at backup time in the dump's own snapshot (kept in the
 * globals object) and again in a drill's restored database; the two are diffed, in the spirit of dumping both
 * schemas and comparing the text, without a second pg_dump.
 *
 * Names and definitions are read with an empty search_path, so every name in them is schema-qualified and the
 * two sides read the same whatever their settings (a restored database gets the source's search_path). Objects
 * that belong to an extension are left out (the extension is in, with its version). ACL items are sorted: their
 * order means nothing.
 */
import type { Client } from 'pg';
import type { CatalogEntry } from '../contract/globals';

type Query = Pick<Client, 'query'>;

const USER_NS = (col: string): string => `${col} NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND ${col} NOT LIKE 'pg\\_temp\\_%' AND ${col} NOT LIKE 'pg\\_toast\\_temp\\_%'`;
const NOT_MEMBER = (cls: string, col: string): string => `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${cls}'::regclass AND d.objid = ${col} AND d.deptype = 'e')`;
const ACL = (col: string): string => `(SELECT string_agg(x::text, ',' ORDER BY x::text) FROM unnest(${col}) x)`;

const FINGERPRINT_SQL = `
SELECT 'schema' AS kind, quote_ident(n.nspname) AS name, pg_get_userbyid(n.nspowner) AS owner, ${ACL('n.nspacl')} AS detail
  FROM pg_namespace n WHERE ${USER_NS('n.nspname')} AND ${NOT_MEMBER('pg_namespace', 'n.oid')}
UNION ALL
SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                      WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' WHEN 'i' THEN 'index' WHEN 'I' THEN 'partitioned index' END,
       format('%I.%I', n.nspname, c.relname), pg_get_userbyid(c.relowner),
       concat_ws(' ', ${ACL('c.relacl')}, CASE WHEN c.relrowsecurity THEN 'rls' END, CASE WHEN c.relforcerowsecurity THEN 'force-rls' END)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'i', 'I') AND ${USER_NS('n.nspname')} AND ${NOT_MEMBER('pg_class', 'c.oid')}
UNION ALL
SELECT 'column privileges', format('%I.%I.%I', n.nspname, c.relname, a.attname), NULL, ${ACL('a.attacl')}
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE a.attacl IS NOT NULL AND NOT a.attisdropped AND ${USER_NS('n.nspname')} AND ${NOT_MEMBER('pg_class', 'c.oid')}
UNION ALL
SELECT CASE p.prokind WHEN 'f' THEN 'function' WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'window function' END,
       format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), pg_get_userbyid(p.proowner), ${ACL('p.proacl')}
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_NS('n.nspname')} AND ${NOT_MEMBER('pg_proc', 'p.oid')}
UNION ALL
SELECT CASE t.typtype WHEN 'd' THEN 'domain' WHEN 'e' THEN 'enum type' WHEN 'r' THEN 'range type' WHEN 'm' THEN 'multirange type' WHEN 'c' THEN 'composite type' ELSE 'base type' END,
       format('%I.%I', n.nspname, t.typname), pg_get_userbyid(t.typowner), ${ACL('t.typacl')}
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE ${USER_NS('n.nspname')} AND ${NOT_MEMBER('pg_type', 't.oid')} AND t.typelem = 0 AND t.typtype <> 'p'
   AND (t.typrelid = 0 OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')
   AND NOT (t.typtype = 'm' AND EXISTS (SELECT 1 FROM pg_range r WHERE r.rngmultitypid = t.oid))
UNION ALL
SELECT 'policy', format('%I.%I.%I', n.nspname, c.relname, pol.polname), NULL,
       concat_ws(' ', pol.polcmd, CASE WHEN pol.polpermissive THEN 'permissive' ELSE 'restrictive' END,
                 'to', (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(r)) END, ',' ORDER BY 1) FROM unnest(pol.polroles) r),
                 'using', pg_get_expr(pol.polqual, pol.polrelid), 'check', pg_get_expr(pol.polwithcheck, pol.polrelid))
  FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
UNION ALL
SELECT 'trigger', format('%I.%I.%I', n.nspname, c.relname, tg.tgname), NULL, pg_get_triggerdef(tg.oid)
  FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT tg.tgisinternal AND ${USER_NS('n.nspname')} AND ${NOT_MEMBER('pg_class', 'c.oid')}
UNION ALL
SELECT 'constraint', format('%I.%s.%I', n.nspname, coalesce(quote_ident(c.relname), '-'), co.conname), NULL, pg_get_constraintdef(co.oid)
  FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace LEFT JOIN pg_class c ON c.oid = co.conrelid
 WHERE ${USER_NS('n.nspname')} AND ${NOT_MEMBER('pg_constraint', 'co.oid')} AND (c.oid IS NULL OR ${NOT_MEMBER('pg_class', 'c.oid')})
UNION ALL
-- Owner left out: pg_restore creates an extension as the restoring user (pg_dump writes no owner for it).
SELECT 'extension', quote_ident(e.extname), NULL, e.extversion FROM pg_extension e WHERE e.extname <> 'plpgsql'
UNION ALL
SELECT 'default privileges', concat_ws(' ', quote_ident(pg_get_userbyid(d.defaclrole)), 'in', coalesce(quote_ident(n.nspname), '*'), 'on', d.defaclobjtype::text),
       NULL, ${ACL('d.defaclacl')}
  FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
UNION ALL
SELECT 'large objects', 'count', NULL, count(*)::text FROM pg_largeobject_metadata HAVING count(*) > 0
`;

/** The current database's fingerprint, in the client's transaction if one is open (the dump's snapshot). */
export async function readCatalogFingerprint(client: Query): Promise<CatalogEntry[]> {
  const saved = (await client.query<{ p: string }>(`SELECT current_setting('search_path') AS p`)).rows[0]!.p;
  await client.query(`SELECT set_config('search_path', '', false)`);
  try {
    const r = await client.query<CatalogEntry>(FINGERPRINT_SQL);
    return r.rows.sort(compareEntries);
  } finally {
    await client.query(`SELECT set_config('search_path', $1, false)`, [saved]);
  }
}

function compareEntries(a: CatalogEntry, b: CatalogEntry): number {
  return a.kind.localeCompare(b.kind) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

export interface CatalogDiff {
  /** Objects per kind in the source. */
  kinds: Record<string, number>;
  missing: CatalogEntry[];
  extra: CatalogEntry[];
  changed: { before: CatalogEntry; after: CatalogEntry }[];
}

/** What differs between the source's fingerprint and a restore's. */
export function diffCatalog(source: readonly CatalogEntry[], restored: readonly CatalogEntry[]): CatalogDiff {
  const key = (e: CatalogEntry): string => `${e.kind}\u0000${e.name}`;
  const after = new Map(restored.map((e) => [key(e), e]));
  const before = new Map(source.map((e) => [key(e), e]));
  const kinds: Record<string, number> = {};
  const missing: CatalogEntry[] = [];
  const changed: CatalogDiff['changed'] = [];
  for (const e of source) {
    kinds[e.kind] = (kinds[e.kind] ?? 0) + 1;
    const a = after.get(key(e));
    if (!a) missing.push(e);
    else if (a.owner !== e.owner || a.detail !== e.detail) changed.push({ before: e, after: a });
  }
  const extra = restored.filter((e) => !before.has(key(e)));
  return { kinds, missing, extra, changed };
}

/** One line per difference, for reports. */
export function describeCatalogDiff(d: CatalogDiff): string[] {
  const out: string[] = [];
  for (const e of d.missing) out.push(`${e.kind} ${e.name} missing`);
  for (const e of d.extra) out.push(`${e.kind} ${e.name} not in the source`);
  for (const { before, after } of d.changed) {
    if (before.owner !== after.owner) out.push(`${before.kind} ${before.name} owned by ${after.owner ?? '-'}, not ${before.owner ?? '-'}`);
    if (before.detail !== after.detail) out.push(`${before.kind} ${before.name}: ${after.detail ?? '(none)'}, not ${before.detail ?? '(none)'}`);
  }
  return out;
}
