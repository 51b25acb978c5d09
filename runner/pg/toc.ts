/**
 * Selective restores (`restore --table T`) through the archive's table of contents.
 *
 * `pg_restore -t T` restores a table's definition and data and nothing else: no primary key, no unique or
 * foreign-key constraints, no indexes, no triggers, no column defaults from its sequences (and a table whose
 * definition uses a standalone sequence or an enum type fails outright). That is not a usable table. So a
 * selective restore instead builds a list of TOC entries and passes it to `pg_restore --use-list`:
 *
 * - the selected tables;
 * - everything attached to them, transitively (indexes, constraints, triggers, defaults, owned and identity
 *   sequences with their values, rules, policies, comments, grants, their data), as long as every object such
 *   an entry depends on is restored too or already exists in the target (a partition's own index or key does
 *   not need its parent's). A foreign key to a table outside the selection, or a partition's ATTACH to a
 *   parent that is not restored, is left out and reported;
 * - the objects the restored entries need that the target lacks (schemas, types, domains, functions,
 *   standalone sequences, collations, extensions): they are restored from the archive; those that exist are
 *   used as they are. Other tables are never pulled in;
 * - when replacing tables the target has (--clean): the views and materialized views built on them, dropped and
 *   made again with them; the foreign keys out of them to tables the target has; the foreign keys into them
 *   from tables the target has and a partition's ATTACH entries onto a parent the target keeps, both reported
 *   apart (`inbound`, `attachToTarget`) for runner/restore/replace.ts, which handles them in the restore's
 *   transaction (an inbound key the target's rows break is left out there, not a failure).
 * - a partitioned table named itself (`partitioned`, with its partitions beside it): its own definition, keys
 *   and indexes, and its partitions' ATTACH entries.
 *
 * No library reads pg_dump's TOC, so it is read here from pg_restore's own output: `pg_restore --list
 * --verbose` gives every entry's id, type and dependencies, and a schema-only script with `--verbose` gives
 * the unambiguous schema and name of each entry in its `-- TOC entry` / `-- Name:` headers.
 *
 * - parseTocList(listText) / parseTocScript(scriptText) / mergeToc(...): pure parsers.
 * - selectTocEntries(entries, tables, exists): pure selection given an existence check; unit-tested.
 * - readToc(pgRestore, file, env): runs the two pg_restore passes.
 */
import { execFile } from 'node:child_process';
import type { Client } from 'pg';
import { runtimeError } from '../errors';
import { quoteIdent } from './connection';
import type { TableRef } from './tables';

/** TOC entries whose rows are stored in the archive's data blocks (what a streamed restore shares out). */
export const DATA_BLOCK_TYPES: ReadonlySet<string> = new Set(['TABLE DATA', 'BLOBS', 'BLOB DATA']);

export interface TocEntry {
  id: number;
  /** What follows the type on the list line: "schema name owner" (ambiguous when names hold spaces). */
  label: string;
  /** pg_dump's entry type: TABLE, INDEX, FK CONSTRAINT, TABLE DATA, ... */
  type: string;
  /** Schema of the entry; null when it has none ("-"). */
  schema: string | null;
  /** The entry's tag: "orders", "customers customers_pkey", "touch()"; null when not known (data entries). */
  name: string | null;
  deps: number[];
}

/** Every entry type pg_dump writes (PostgreSQL 13-17), longest first so "TABLE DATA" wins over "TABLE". */
const TYPES = [
  'ACCESS METHOD', 'ACL', 'AGGREGATE', 'BLOB', 'BLOB DATA', 'BLOBS', 'CAST', 'CHECK CONSTRAINT', 'COLLATION', 'COMMENT',
  'CONSTRAINT', 'CONVERSION', 'DATABASE', 'DATABASE PROPERTIES', 'DEFAULT', 'DEFAULT ACL', 'DOMAIN', 'ENCODING',
  'EVENT TRIGGER', 'EXTENSION', 'FK CONSTRAINT', 'FOREIGN DATA WRAPPER', 'FOREIGN SERVER', 'FOREIGN TABLE', 'FUNCTION',
  'INDEX', 'INDEX ATTACH', 'LARGE OBJECT', 'MATERIALIZED VIEW', 'MATERIALIZED VIEW DATA', 'OPERATOR', 'OPERATOR CLASS',
  'OPERATOR FAMILY', 'POLICY', 'PROCEDURAL LANGUAGE', 'PROCEDURE', 'PUBLICATION', 'PUBLICATION TABLE',
  'PUBLICATION TABLES IN SCHEMA', 'ROW SECURITY', 'RULE', 'SCHEMA', 'SEARCHPATH', 'SECURITY LABEL', 'SEQUENCE',
  'SEQUENCE OWNED BY', 'SEQUENCE SET', 'SERVER', 'SHELL TYPE', 'STATISTICS', 'STDSTRINGS', 'SUBSCRIPTION', 'TABLE',
  'TABLE ATTACH', 'TABLE DATA', 'TEXT SEARCH CONFIGURATION', 'TEXT SEARCH DICTIONARY', 'TEXT SEARCH PARSER',
  'TEXT SEARCH TEMPLATE', 'TRANSFORM', 'TRIGGER', 'TYPE', 'USER MAPPING', 'VIEW',
].sort((a, b) => b.length - a.length);

/** Entries that belong to a table (or to an object restored with it) and come along with it. */
const ATTACHED_TYPES = new Set([
  'TABLE DATA', 'INDEX', 'CONSTRAINT', 'CHECK CONSTRAINT', 'FK CONSTRAINT', 'TRIGGER', 'DEFAULT', 'RULE', 'POLICY',
  'ROW SECURITY', 'SEQUENCE', 'SEQUENCE OWNED BY', 'SEQUENCE SET', 'COMMENT', 'SECURITY LABEL', 'ACL', 'STATISTICS',
  'INDEX ATTACH', 'TABLE ATTACH',
]);

/** Objects a restored entry may need: restored from the archive when the target lacks them, else used. */
export const PREREQUISITE_TYPES = new Set(['SCHEMA', 'EXTENSION', 'TYPE', 'DOMAIN', 'FUNCTION', 'PROCEDURE', 'AGGREGATE', 'SEQUENCE', 'COLLATION']);

/** Entries that never make a dependent come along on their own (every table in a schema depends on it). */
const NOT_ANCHORS = new Set(['SCHEMA', 'EXTENSION']);

/**
 * A partition's index or key depends on its parent's partitioned index only to be attached to it (INDEX
 * ATTACH); on the partition alone it is still a valid index or key, so that dependency does not hold it back.
 */
function attachOnly(entry: TocEntry, dep: TocEntry | undefined): boolean {
  return (entry.type === 'INDEX' || entry.type === 'CONSTRAINT') && (dep?.type === 'INDEX' || dep?.type === 'CONSTRAINT');
}

/** `pg_restore --list --verbose`: "218; 1259 16389 TABLE sales customers postgres" then ";\tdepends on: 6". */
export function parseTocList(text: string): TocEntry[] {
  const out: TocEntry[] = [];
  let last: TocEntry | null = null;
  for (const line of text.split('\n')) {
    const m = /^(\d+); \d+ \d+ (.*)$/.exec(line);
    if (m) {
      const rest = m[2]!;
      const type = TYPES.find((t) => rest === t || rest.startsWith(`${t} `)) ?? rest.split(' ')[0]!;
      last = { id: Number(m[1]), type, label: rest.slice(type.length + 1), schema: null, name: null, deps: [] };
      out.push(last);
      continue;
    }
    const d = /^;\s*depends on:((?:\s+\d+)+)\s*$/.exec(line);
    if (d && last) last.deps = d[1]!.trim().split(/\s+/).map(Number);
  }
  return out;
}

/** Headers of a `pg_restore --verbose` script: id → schema, name, type. */
export function parseTocScript(text: string): Map<number, { type: string; schema: string | null; name: string }> {
  const out = new Map<number, { type: string; schema: string | null; name: string }>();
  let id: number | null = null;
  for (const line of text.split('\n')) {
    const t = /^-- TOC entry (\d+) /.exec(line);
    if (t) {
      id = Number(t[1]);
      continue;
    }
    if (id === null || !line.startsWith('-- Name: ')) continue;
    // The name may hold "; " itself: the greedy first group leaves the fixed tail to the others.
    const n = /^-- Name: (.*); Type: (.*?); Schema: (.*?); Owner: .*$/.exec(line);
    if (n) out.set(id, { name: n[1]!, type: n[2]!, schema: n[3] === '-' ? null : n[3]! });
    id = null;
  }
  return out;
}

/** Names onto the list's entries. Data entries (TABLE DATA, SEQUENCE SET) take their object's name. */
export function mergeToc(list: TocEntry[], names: Map<number, { type: string; schema: string | null; name: string }>): TocEntry[] {
  const named = list.map((e) => {
    const n = names.get(e.id);
    return n ? { ...e, type: n.type, schema: n.schema, name: n.name } : e;
  });
  const byId = new Map(named.map((e) => [e.id, e]));
  return named.map((e) => {
    if (e.name !== null || e.deps.length !== 1) return e;
    const owner = byId.get(e.deps[0]!);
    return owner?.name != null ? { ...e, schema: owner.schema, name: owner.name } : e;
  });
}

export interface TocSelection {
  /** Entry ids to restore, in the archive's order (pg_restore --use-list restores in the list's order). */
  ids: number[];
  /** Attached entries left out because they need objects outside the selection, for a warning. */
  skipped: TocEntry[];
  /** Prerequisites restored because the target lacked them. */
  added: TocEntry[];
  /** With `replacing`: the included foreign keys of tables the target keeps into the restored ones. */
  inbound: TocEntry[];
  /** With `replacing`: the included TABLE ATTACH / INDEX ATTACH entries onto a parent the target keeps. */
  attachToTarget: TocEntry[];
}

/** Whether the target already has a prerequisite object (schema, type, function, ...). */
export type ExistsCheck = (entry: TocEntry) => Promise<boolean>;

export function describeEntry(e: TocEntry): string {
  return `${e.type} ${e.schema ? `${e.schema}.` : ''}${e.name ?? `#${e.id}`}`;
}

/**
 * The entries of a restore of `tables` (see the module comment). Throws when a table has no TABLE entry.
 * `exists` is asked about prerequisites and, with `replacing`, about the archive's other tables.
 */
export async function selectTocEntries(
  entries: readonly TocEntry[],
  tables: readonly TableRef[],
  exists: ExistsCheck,
  opts: { replacing?: boolean } = {},
): Promise<TocSelection> {
  const byId = new Map(entries.map((e) => [e.id, e]));
  const included = new Set<number>();
  const existing = new Set<number>();
  const added: TocEntry[] = [];

  for (const t of tables) {
    let hits = entries.filter((e) => e.type === 'TABLE' && e.schema === t.schema && e.name === t.name);
    // A data-only archive has no TABLE entries: its TABLE DATA entries carry the names on the list line only.
    if (hits.length === 0 && !entries.some((e) => e.type === 'TABLE')) {
      hits = entries.filter((e) => e.type === 'TABLE DATA' && e.label.startsWith(`${t.schema} ${t.name} `));
      // A partitioned table has no rows of its own: its partitions, beside it in `tables`, carry them.
      if (hits.length === 0 && t.partitioned) continue;
    }
    if (hits.length !== 1) {
      throw runtimeError('toc_table_missing', `the archive has ${hits.length} entries for table ${t.schema}.${t.name}, expected one`);
    }
    included.add(hits[0]!.id);
  }

  // Prerequisites of an included entry: restored when missing, recursively; used as they are when present.
  const satisfy = async (e: TocEntry): Promise<void> => {
    for (const d of e.deps) {
      const dep = byId.get(d);
      if (!dep || included.has(d) || existing.has(d) || !PREREQUISITE_TYPES.has(dep.type)) continue;
      if (await exists(dep)) {
        existing.add(d);
        continue;
      }
      included.add(d);
      added.push(dep);
      await satisfy(dep);
    }
  };

  // Attached entries, to a fixed point: one of their dependencies is restored (and is not merely a schema or
  // an extension), and every one is restored, or exists, or is a prerequisite that can be.
  const pending = entries.filter((e) => ATTACHED_TYPES.has(e.type));
  for (const id of [...included]) await satisfy(byId.get(id)!);
  // Replacing tables in a database that has them (--clean): what depends on them there must be dropped and made
  // again with them, or the DROP fails. So the views (and materialized views, with their data) built on a
  // restored table or view come along, and so do the foreign keys of other tables into a restored one: their
  // other tables are in the target already.
  const replacing = Boolean(opts.replacing);
  // Tables the target has that are not restored: foreign keys into and out of a replaced table may name them.
  const present = new Set<number>();
  if (replacing) {
    for (const e of entries) if (e.type === 'TABLE' && !included.has(e.id) && (await exists(e))) present.add(e.id);
  }
  const inTarget = (d: number): boolean => {
    const dep = byId.get(d);
    if (!dep) return false;
    if (dep.type === 'TABLE') return present.has(d);
    // The referenced key of a table the target has.
    return (dep.type === 'CONSTRAINT' || dep.type === 'INDEX') && dep.deps.some((x) => present.has(x));
  };
  if (replacing) {
    const views = entries.filter((e) => e.type === 'VIEW' || e.type === 'MATERIALIZED VIEW');
    for (let grew = true; grew; ) {
      grew = false;
      for (const v of views) {
        if (included.has(v.id) || !v.deps.some((d) => included.has(d) && ['TABLE', 'VIEW', 'MATERIALIZED VIEW'].includes(byId.get(d)?.type ?? ''))) continue;
        included.add(v.id);
        await satisfy(v);
        grew = true;
      }
    }
    for (const e of entries) if (e.type === 'MATERIALIZED VIEW DATA' && e.deps.some((d) => included.has(d))) included.add(e.id);
  }
  let changed = true;
  while (changed) {
    changed = false;
    for (const e of pending) {
      if (included.has(e.id)) continue;
      const anchored = e.deps.some((d) => included.has(d) && !NOT_ANCHORS.has(byId.get(d)?.type ?? ''));
      if (!anchored) continue;
      const allMet = e.deps.every(
        (d) =>
          included.has(d) || existing.has(d) || PREREQUISITE_TYPES.has(byId.get(d)?.type ?? '') || attachOnly(e, byId.get(d)) ||
          ((e.type === 'FK CONSTRAINT' || e.type === 'TABLE ATTACH' || e.type === 'INDEX ATTACH') && inTarget(d)),
      );
      if (!allMet) continue;
      included.add(e.id);
      await satisfy(e);
      changed = true;
    }
  }

  // Attached entries of the selected tables that could not come along: reported, not silently dropped.
  const selectedTables = new Set(entries.filter((e) => e.type === 'TABLE' && included.has(e.id)).map((e) => e.id));
  const skipped = pending.filter(
    (e) => !included.has(e.id) && e.deps.some((d) => selectedTables.has(d)) && !['INDEX ATTACH'].includes(e.type),
  );
  // What ties a replaced table to tables the target keeps: the foreign keys of those tables into it, and its
  // attachment (and its indexes') to a partitioned parent that is not restored. The restore handles these itself
  // (runner/restore/replace.ts): they name objects outside the restore.
  // A foreign key depends on both its tables; its own is the one its tag ("table constraint") starts with.
  const ownTable = (e: TocEntry): number | undefined =>
    e.deps
      .map((d) => byId.get(d))
      .filter((t): t is TocEntry => t?.type === 'TABLE' && t.schema === e.schema && t.name !== null && Boolean(e.name?.startsWith(`${t.name} `)))
      .sort((a, b) => b.name!.length - a.name!.length)[0]?.id;
  const inbound = entries.filter((e) => included.has(e.id) && e.type === 'FK CONSTRAINT' && present.has(ownTable(e) ?? -1));
  const attachToTarget = entries.filter((e) => included.has(e.id) && (e.type === 'TABLE ATTACH' || e.type === 'INDEX ATTACH') && e.deps.some((d) => !included.has(d) && inTarget(d)));
  return { ids: entries.filter((e) => included.has(e.id)).map((e) => e.id), skipped, added, inbound, attachToTarget };
}

/** Asks the target whether it already has a prerequisite object. Unknown kinds count as present. */
export function targetExistsCheck(client: Pick<Client, 'query'>): ExistsCheck {
  return async (e) => {
    if (e.name === null) return true;
    const qualified = e.schema === null ? quoteIdent(e.name) : `${quoteIdent(e.schema)}.${quoteIdent(e.name)}`;
    let sql: string;
    let params: unknown[];
    switch (e.type) {
      case 'SCHEMA':
        [sql, params] = ['SELECT 1 FROM pg_namespace WHERE nspname = $1', [e.name]];
        break;
      case 'EXTENSION':
        [sql, params] = ['SELECT 1 FROM pg_extension WHERE extname = $1', [e.name]];
        break;
      case 'TYPE':
      case 'DOMAIN':
        [sql, params] = ['SELECT 1 WHERE to_regtype($1) IS NOT NULL', [qualified]];
        break;
      case 'SEQUENCE':
      case 'TABLE':
        [sql, params] = ['SELECT 1 WHERE to_regclass($1) IS NOT NULL', [qualified]];
        break;
      case 'COLLATION':
        [sql, params] = ['SELECT 1 FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace WHERE c.collname = $1 AND n.nspname = $2', [e.name, e.schema]];
        break;
      case 'FUNCTION':
      case 'PROCEDURE':
      case 'AGGREGATE': {
        // The tag is "name(argument types)"; the name part may need quoting, the types are format_type's.
        const open = e.name.indexOf('(');
        if (open < 0) return true;
        const sig = `${e.schema === null ? '' : `${quoteIdent(e.schema)}.`}${quoteIdent(e.name.slice(0, open))}${e.name.slice(open)}`;
        [sql, params] = ['SELECT 1 WHERE to_regprocedure($1) IS NOT NULL', [sig]];
        break;
      }
      default:
        return true;
    }
    const r = await client.query(sql, params);
    return (r.rowCount ?? 0) > 0;
  };
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        reject(runtimeError('archive_unreadable', `${file} ${args[0]} failed: ${(stderr || err.message).trim().split('\n')[0]}`));
      } else resolve(stdout);
    });
  });
}

/** The archive's TOC with names, from two pg_restore passes over the (local, seekable) archive file. */
export async function readToc(pgRestore: string, file: string, env: NodeJS.ProcessEnv): Promise<TocEntry[]> {
  const toolEnv = { ...env, LC_ALL: 'C', LC_MESSAGES: 'C' };
  const [list, script] = await Promise.all([
    run(pgRestore, ['--list', '--verbose', file], toolEnv),
    run(pgRestore, ['--schema-only', '--verbose', '--file=-', file], toolEnv),
  ]);
  return mergeToc(parseTocList(list), parseTocScript(script));
}

/** The `--use-list` file's text: one id per line. */
export function useListText(ids: readonly number[]): string {
  return ids.map((id) => `${id};`).join('\n') + '\n';
}
