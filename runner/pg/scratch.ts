/**
 * Scratch restores into an existing, empty database (verify --restore-into, drills): what was there before,
 * and dropping afterwards exactly what the restore added, so the database is left as it was found.
 *
 * - scratchState(client): schemas, extensions and whether the database holds user objects.
 * - dropAddedObjects(client, before): drops new schemas and extensions (CASCADE) and every relation, routine
 *   and type in the schemas that existed before (they held none before: scratchState checked), and the large
 *   objects when there were none before.
 */
import type { Client } from 'pg';
import { quoteIdent } from './connection';

export interface ScratchState {
  schemas: string[];
  extensions: string[];
  /** Relations, routines and types in non-system schemas (extension members excluded). */
  userObjects: number;
  /** Large objects (database-wide, in no schema). */
  largeObjects: number;
}

const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`;
const NOT_EXTENSION_MEMBER = (cls: string, col: string): string =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${cls}'::regclass AND d.objid = ${col} AND d.deptype = 'e')`;

export async function scratchState(client: Pick<Client, 'query'>): Promise<ScratchState> {
  const schemas = await client.query<{ n: string }>(`SELECT nspname AS n FROM pg_namespace n WHERE ${USER_SCHEMA}`);
  const exts = await client.query<{ n: string }>(`SELECT extname AS n FROM pg_extension`);
  const objs = await client.query<{ n: string }>(`
    SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE ${USER_SCHEMA} AND c.relkind IN ('r','p','v','m','S','f') AND ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')})
         + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE ${USER_SCHEMA} AND ${NOT_EXTENSION_MEMBER('pg_proc', 'p.oid')}) AS n`);
  const los = await client.query<{ n: string }>(`SELECT count(*) AS n FROM pg_largeobject_metadata`);
  return { schemas: schemas.rows.map((r) => r.n), extensions: exts.rows.map((r) => r.n), userObjects: Number(objs.rows[0]!.n), largeObjects: Number(los.rows[0]!.n) };
}

export async function dropAddedObjects(client: Pick<Client, 'query'>, before: ScratchState): Promise<void> {
  const after = await scratchState(client);
  for (const e of after.extensions.filter((x) => !before.extensions.includes(x))) {
    await client.query(`DROP EXTENSION IF EXISTS ${quoteIdent(e)} CASCADE`);
  }
  for (const s of after.schemas.filter((x) => !before.schemas.includes(x))) {
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(s)} CASCADE`);
  }
  const kept = before.schemas;
  const rels = await client.query<{ q: string; kind: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS q, c.relkind AS kind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1) AND c.relkind IN ('r','p','v','m','S','f') AND NOT c.relispartition
        AND ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}`,
    [kept],
  );
  const dropKind: Record<string, string> = { r: 'TABLE', p: 'TABLE', v: 'VIEW', m: 'MATERIALIZED VIEW', S: 'SEQUENCE', f: 'FOREIGN TABLE' };
  for (const r of rels.rows) await client.query(`DROP ${dropKind[r.kind]} IF EXISTS ${r.q} CASCADE`);
  const procs = await client.query<{ sig: string }>(
    `SELECT p.oid::regprocedure::text AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = ANY($1) AND ${NOT_EXTENSION_MEMBER('pg_proc', 'p.oid')}`,
    [kept],
  );
  for (const p of procs.rows) await client.query(`DROP ROUTINE IF EXISTS ${p.sig} CASCADE`);
  const types = await client.query<{ q: string; domain: boolean }>(
    `SELECT format('%I.%I', n.nspname, t.typname) AS q, t.typtype = 'd' AS domain
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = ANY($1) AND t.typtype IN ('e','c','d','r') AND t.typrelid = 0
        AND ${NOT_EXTENSION_MEMBER('pg_type', 't.oid')}`,
    [kept],
  );
  for (const t of types.rows) await client.query(`DROP ${t.domain ? 'DOMAIN' : 'TYPE'} IF EXISTS ${t.q} CASCADE`);
  // Large objects belong to no schema: the restore added all there are when there were none before.
  if (before.largeObjects === 0) await client.query(`SELECT lo_unlink(oid) FROM pg_largeobject_metadata`);
}
