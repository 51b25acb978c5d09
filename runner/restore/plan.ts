/**
 * What a restore will do, decided before anything is touched: flag combinations that exclude each other, and which
 * tables it loads (a selective restore then restores them through a TOC list with their indexes, constraints,
 * triggers and sequences: runner/pg/toc.ts).
 */
import type { CompleteBackup } from '../catalog/catalog';
import { usageError } from '../errors';
import { resolveTablesWithPartitions, type TableRef } from '../pg/tables';

/** The restore's modes, whose combinations are checked. */
export interface RestoreModes {
  jobs?: number;
  schemaOnly?: boolean;
  dataOnly?: boolean;
  clean?: boolean;
  yes?: boolean;
  create?: boolean;
}

/**
 * The most parallel jobs a restore, verify or drill runs. Each is a session on the target and a pg_restore
 * worker on a core; past a few dozen they only exhaust the server's max_connections (100 by default, less on
 * small managed instances) without restoring any faster.
 */
export const MAX_JOBS = 64;

/** `--jobs` as a whole number from 1 to MAX_JOBS; `given` is what the user wrote, for the message. */
export function validateJobs(jobs: number, given: string = String(jobs)): number {
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > MAX_JOBS) {
    throw usageError('jobs_invalid', `--jobs expected a whole number from 1 to ${MAX_JOBS}, got ${given}`);
  }
  return jobs;
}

export function validateRestoreFlags(opts: RestoreModes): void {
  if (opts.jobs !== undefined) validateJobs(opts.jobs);
  if (opts.schemaOnly && opts.dataOnly) throw usageError('flags_conflict', '--schema-only and --data-only exclude each other');
  if (opts.clean && !opts.yes) {
    throw usageError('clean_unconfirmed', '--clean drops the objects of the backup in the target before restoring them', 'Add --yes to confirm');
  }
  if (opts.clean && opts.dataOnly) throw usageError('flags_conflict', '--clean and --data-only exclude each other (pg_restore cannot drop data only)');
  if (opts.clean && opts.create) throw usageError('flags_conflict', '--clean and --create exclude each other (a new database has nothing to drop)');
}

/**
 * The tables a restore loads. A partitioned table named with `--table` (recorded in the manifest's partitionOf)
 * comes with its partitions, and stays in the list itself, marked `partitioned`, so its own definition comes too.
 */
export function planTables(backup: CompleteBackup, tableArgs: readonly string[] | undefined): { tables: TableRef[]; selective: boolean } {
  const known = backup.manifest.tables.map((t) => ({ schema: t.schema, name: t.name }));
  if (!tableArgs?.length) return { tables: known, selective: false };
  const { tables } = resolveTablesWithPartitions(tableArgs, backup.manifest.tables, `backup ${backup.id}`);
  return { tables, selective: true };
}
