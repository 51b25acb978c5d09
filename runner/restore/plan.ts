/**
 * What a restore will do, decided before anything is touched: flag combinations that exclude each other, and which
 * tables it loads (a selective restore then restores them through a TOC list with their indexes, constraints,
 * triggers and sequences: runner/pg/toc.ts).
 */
import type { CompleteBackup } from '../catalog/catalog';
import { usageError } from '../errors';
import { resolveTables, type TableRef } from '../pg/tables';

/** The restore's modes, whose combinations are checked. */
export interface RestoreModes {
  jobs?: number;
  schemaOnly?: boolean;
  dataOnly?: boolean;
  clean?: boolean;
  yes?: boolean;
  create?: boolean;
}

export function validateRestoreFlags(opts: RestoreModes): void {
  if (opts.jobs !== undefined && (!Number.isInteger(opts.jobs) || opts.jobs < 1)) {
    throw usageError('jobs_invalid', `--jobs expected a whole number >= 1, got ${String(opts.jobs)}`);
  }
  if (opts.schemaOnly && opts.dataOnly) throw usageError('flags_conflict', '--schema-only and --data-only exclude each other');
  if (opts.clean && !opts.yes) {
    throw usageError('clean_unconfirmed', '--clean drops the objects of the backup in the target before restoring them', 'Add --yes to confirm');
  }
  if (opts.clean && opts.dataOnly) throw usageError('flags_conflict', '--clean and --data-only exclude each other (pg_restore cannot drop data only)');
  if (opts.clean && opts.create) throw usageError('flags_conflict', '--clean and --create exclude each other (a new database has nothing to drop)');
}

export function planTables(backup: CompleteBackup, tableArgs: readonly string[] | undefined): { tables: TableRef[]; selective: boolean } {
  const known = backup.manifest.tables.map((t) => ({ schema: t.schema, name: t.name }));
  if (!tableArgs?.length) return { tables: known, selective: false };
  const tables = resolveTables(tableArgs, known, `backup ${backup.id}`);
  return { tables, selective: true };
}
