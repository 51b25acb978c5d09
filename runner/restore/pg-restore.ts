/**
 * pg_restore as the restores run it (archive.ts's temp-file path and stream.ts's streams alike): the
 * plan and its options, the tool that can read a backup, its warnings and failures, and the row-count check
 * that proves what it loaded.
 */
import type { CompleteBackup } from '../catalog/catalog';
import type { RunContext } from '../context';
import type { TableRowCount } from '../contract/manifest';
import { runtimeError, type LifeboatError } from '../errors';
import { connectPg, type ConnInfo } from '../pg/connection';
import { compareRowCounts, qualified, quoteTable, type RowCountComparison, type TableRef } from '../pg/tables';
import { findTool, parseToolVersion } from '../pg/tools';
import { describeChildFailure, type ChildResult, type Spawner } from '../pipeline/spawn';

export interface RestoreDeps {
  ctx: Pick<RunContext, 'env' | 'logger' | 'signal' | 'stderr'>;
  spawner?: Spawner;
}

export interface RestorePlan {
  /** Tables whose rows the restore loads and checks. */
  tables: TableRef[];
  /** True when only `tables` are restored (pg_restore -n/-t). */
  selective: boolean;
  schemaOnly: boolean;
  dataOnly: boolean;
  clean: boolean;
  jobs: number;
  noOwner: boolean;
  /** pg_restore --no-privileges; absent means false. */
  noPrivileges?: boolean;
}

/** A conninfo for pg_restore -d that carries only the database name; everything else comes from PG* env. */
function dbnameConninfo(database: string): string {
  return `dbname='${database.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** pg_restore's options for a plan, without --jobs, a list or the input (callers add those). */
export function restoreOptionArgs(database: string, plan: RestorePlan): string[] {
  const args = ['--exit-on-error', '--no-password', `--dbname=${dbnameConninfo(database)}`];
  if (plan.clean) args.push('--clean', '--if-exists');
  if (plan.noOwner) args.push('--no-owner');
  if (plan.noPrivileges) args.push('--no-privileges');
  if (plan.schemaOnly) args.push('--schema-only');
  if (plan.dataOnly) args.push('--data-only');
  return args;
}

/** The pg_restore of a backup's archive, given the minimum major version its pg_dump needs. */
export function findPgRestore(backup: CompleteBackup, env: NodeJS.ProcessEnv): ReturnType<typeof findTool> {
  const dumpVersion = parseToolVersion(`(PostgreSQL) ${backup.manifest.tools.pg_dump ?? backup.manifest.server.version}`);
  return findTool('pg_restore', dumpVersion?.major ?? 0, `backup ${backup.id} was written by pg_dump ${backup.manifest.tools.pg_dump ?? '?'}`, env);
}

/** pg_restore's stderr lines that are not errors (errors are in the failure's message). */
export function pgRestoreWarning(ctx: RestoreDeps['ctx']): (line: string) => void {
  return (line) => {
    if (!/: error:/.test(line)) ctx.logger.warn({ tool: 'pg_restore' }, line);
  };
}

/** A failed pg_restore as the error the user sees, with a hint for the most common cause. */
export function pgRestoreFailure(result: ChildResult, backup: CompleteBackup, target: ConnInfo, plan: RestorePlan): LifeboatError {
  const missingRole = /role "[^"]*" does not exist/.test(result.stderr) && !(plan.noOwner && plan.noPrivileges);
  return runtimeError(
    'restore_failed',
    `restoring backup ${backup.id} into database "${target.database}" failed: ${describeChildFailure(result)}`,
    missingRole ? 'The target server lacks a role of the source: create it (restore --roles does, for backups that record their roles), or pass --no-owner --no-privileges' : undefined,
  );
}

/** Tables counted in one query: thousands of small tables are as many round trips otherwise. */
const COUNT_BATCH = 200;
/** A table this large (manifest bytes) is counted in a query of its own, so the largest spread over the sessions. */
const COUNT_ALONE_BYTES = 16 << 20;

/**
 * Row counts in the target; a table that is not there counts as null (reported as missing). Counted over up to
 * `connections` sessions at once (the restore's --jobs), the largest tables first, small ones COUNT_BATCH to a
 * query (a batch naming a missing table is counted again table by table), in the tables' order.
 */
async function countTargetRows(target: ConnInfo, tables: readonly TableRowCount[], what: string, connections: number): Promise<TableRowCount[]> {
  const out = new Array<TableRowCount>(tables.length);
  const sorted = tables.map((t, i) => ({ t, i })).sort((a, b) => (b.t.bytes ?? b.t.rows ?? 0) - (a.t.bytes ?? a.t.rows ?? 0));
  const queue: { t: TableRowCount; i: number }[][] = [];
  for (const x of sorted) {
    const last = queue.at(-1);
    if (last && last.length < COUNT_BATCH && (x.t.bytes ?? 0) < COUNT_ALONE_BYTES && (last[0]!.t.bytes ?? 0) < COUNT_ALONE_BYTES) last.push(x);
    else queue.push([x]);
  }
  const missing = (e: unknown): boolean => ['42P01', '3F000'].includes((e as { code?: string }).code ?? '');
  const worker = async (): Promise<void> => {
    const c = await connectPg(target, what);
    try {
      for (let batch = queue.shift(); batch; batch = queue.shift()) {
        try {
          const sql = batch.map(({ t }, k) => `SELECT ${k} AS k, count(*) AS n FROM ONLY ${quoteTable(t)}`).join(' UNION ALL ');
          const r = await c.query<{ k: number; n: string }>(sql);
          for (const row of r.rows) {
            const { t, i } = batch[row.k]!;
            out[i] = { schema: t.schema, name: t.name, rows: Number(row.n) };
          }
        } catch (e) {
          if (!missing(e)) throw e;
          if (batch.length > 1) {
            queue.push(...batch.map((x) => [x]));
            continue;
          }
          const { t, i } = batch[0]!;
          out[i] = { schema: t.schema, name: t.name, rows: null };
        }
      }
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(connections, queue.length)) }, worker));
  return out;
}

/** The restored tables' row counts against the manifest's; null when the plan restores no data. */
export async function compareWithManifest(
  backup: CompleteBackup,
  target: ConnInfo,
  plan: RestorePlan,
  flag: string,
): Promise<{ comparison: RowCountComparison[] | null; ok: boolean }> {
  const hasData = !plan.schemaOnly && backup.manifest.kind !== 'schema';
  if (!hasData) return { comparison: null, ok: true };
  const wanted = new Set(plan.tables.map(qualified));
  const expected = backup.manifest.tables.filter((t) => t.rows !== null && wanted.has(qualified(t)));
  const actual = await countTargetRows(target, expected, flag, plan.jobs);
  const comparison = compareRowCounts(expected, actual);
  if (!comparison.every((r) => r.ok)) await acceptRehashedPartitions(target, comparison, flag);
  return { comparison, ok: comparison.every((r) => r.ok) };
}

/**
 * Rows of a hash-partitioned table may land in other partitions than in the source: pg_dump loads partitions
 * through their root when the hash key is an enum (its OIDs, so its hashes, differ in the new database), and
 * the new database routes every row again. The leaves' counts then differ though nothing is lost. For a tree
 * with hash partitioning at some level and all of its leaves in the comparison, the tree's total decides:
 * when it matches, its leaves are ok, with a note. Range and list routing is deterministic: a difference there
 * stays a mismatch.
 */
async function acceptRehashedPartitions(target: ConnInfo, comparison: RowCountComparison[], what: string): Promise<void> {
  const wrong = comparison.filter((r) => !r.ok && r.actual !== null);
  if (!wrong.length) return;
  const c = await connectPg(target, what);
  try {
    const roots = await c.query<{ root: string }>(
      `SELECT DISTINCT pg_partition_root(c.oid)::regclass::text AS root
         FROM unnest($1::text[]) AS q(name) JOIN pg_class c ON c.oid = to_regclass(q.name)
        WHERE c.relispartition
          AND EXISTS (SELECT 1 FROM pg_partition_ancestors(c.oid) a JOIN pg_partitioned_table p ON p.partrelid = a.relid
                       WHERE p.partstrat = 'h')`,
      [wrong.map(quoteTable)],
    );
    const byName = new Map(comparison.map((r) => [qualified(r), r]));
    for (const { root } of roots.rows) {
      const leaves = await c.query<{ schema: string; name: string }>(
        `SELECT n.nspname AS schema, c.relname AS name FROM pg_partition_tree($1::regclass) t
           JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE t.isleaf`,
        [root],
      );
      const rows = leaves.rows.map((l) => byName.get(qualified(l)));
      if (rows.some((r) => r === undefined || r.expected === null || r.actual === null)) continue;
      const sum = (pick: (r: RowCountComparison) => number): number => rows.reduce((a, r) => a + pick(r!), 0);
      if (sum((r) => r.expected!) !== sum((r) => r.actual!)) continue;
      for (const r of rows) {
        if (r!.ok) continue;
        r!.ok = true;
        r!.note = `hash partition of ${root}: its rows were routed again on restore; the tree holds all ${sum((x) => x.expected!)} rows`;
      }
    }
  } finally {
    await c.end().catch(() => undefined);
  }
}
