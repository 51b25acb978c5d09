/**
 * `lifeboat restore <id|latest> --target-url URL`: a backup back into a database, proven by row counts.
 *
 *   resolve ─▶ check the target (refuse one with user tables unless --clean --yes) ─▶ fetchArchive (sha256,
 *   decrypt, zstd -d into a temp file) ─▶ [CREATE DATABASE] ─▶ pg_restore --exit-on-error -j N ─▶ count rows
 *   of the restored tables and compare with the manifest
 *
 * A whole restore with --create streams instead (restore/stream.ts): no temp file, N parallel streams, the
 * checksums checked as the data arrives, and the database dropped on any failure.
 *
 * Reusable pieces (drills and clone build on them):
 * - restoreBackup(opts, deps) → RestoreResult: the whole command above; never prints.
 * - restoreArchive(file, backup, target, plan, deps): pg_restore of a fetched archive into a database that is
 *   ready, then the row-count comparison.
 * - validateRestoreFlags(opts): flag combinations, before anything is touched.
 * - planTables(backup, tableArgs): which tables a restore loads (a selective restore then restores them through
 *   a TOC list with their indexes, constraints, triggers and sequences: runner/pg/toc.ts).
 */
import type { CompleteBackup } from '../catalog/catalog';
import { resolveBackup } from '../catalog/catalog';
import { runtimeError, usageError } from '../errors';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { connectPg, pgToolEnv, type ConnInfo } from '../pg/connection';
import { createDatabase, databaseExists, dropDatabase } from '../pg/databases';
import { dropAddedObjects, scratchState, type ScratchState } from '../pg/scratch';
import { qualified, quoteTable, resolveTables, userTableCount, type RowCountComparison, type TableRef } from '../pg/tables';
import { describeEntry, readToc, selectTocEntries, targetExistsCheck, useListText } from '../pg/toc';
import { treeBytesRead } from '../pipeline/child-io';
import { createProgress } from '../pipeline/progress';
import { childSucceeded, defaultSpawner, watchChild } from '../pipeline/spawn';
import type { Storage } from '../storage/types';
import { fetchArchive, requireIdentityFor } from '../payload/fetch';
import {
  compareWithManifest,
  findPgRestore,
  pgRestoreFailure,
  pgRestoreWarning,
  restoreOptionArgs,
  type RestoreDeps,
  type RestorePlan,
} from '../restore/pg-restore';
import { prepareStreamRestore } from '../restore/stream';

export type { RestoreDeps, RestorePlan } from '../restore/pg-restore';

export interface RestoreOptions {
  storage: Storage;
  /** A backup id or `latest`. */
  ref: string;
  source?: string;
  target: ConnInfo;
  /** The flag the target came from, for messages (`--target-url`, `--restore-into`). */
  targetFlag?: string;
  /** Create the target database first (it must not exist). */
  create?: boolean;
  /** Drop and recreate the archive's objects in a non-empty target; needs `yes`. */
  clean?: boolean;
  yes?: boolean;
  /** `--table` arguments, validated against the manifest. */
  tables?: string[];
  schemaOnly?: boolean;
  dataOnly?: boolean;
  /** pg_restore -j; default 1. */
  jobs?: number;
  noOwner?: boolean;
  /** Skip GRANT/REVOKE (pg_restore --no-privileges): the target lacks roles the grants name. */
  noPrivileges?: boolean;
  /** age identity text for encrypted payloads. */
  identityText?: string;
  /** Called as soon as the backup is resolved, so a later failure can still say which backup it was. */
  onResolved?: (backup: CompleteBackup) => void;
}

export interface RestoreResult {
  backup: CompleteBackup;
  /** null when no data was restored (schema-only). */
  comparison: RowCountComparison[] | null;
  ok: boolean;
}

export function validateRestoreFlags(opts: Pick<RestoreOptions, 'jobs' | 'schemaOnly' | 'dataOnly' | 'clean' | 'yes' | 'create'>): void {
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

/** `useList`: a selective restore's TOC list (runner/pg/toc.ts); pg_restore restores exactly those entries. */
function restoreArgs(file: string, database: string, plan: RestorePlan, useList?: string): string[] {
  const args = [...restoreOptionArgs(database, plan), `--jobs=${plan.jobs}`];
  if (useList) args.push(`--use-list=${useList}`);
  args.push(file);
  return args;
}

/**
 * The TOC list of a selective restore: the tables with their indexes, constraints, triggers, defaults and
 * sequences, plus what the target lacks for them (runner/pg/toc.ts). Written next to the archive (its temp
 * folder is removed with it). Entries left out (a foreign key to a table outside the selection) are logged.
 */
async function writeSelectionList(
  pgRestore: string,
  file: string,
  target: ConnInfo,
  plan: RestorePlan,
  ctx: RestoreDeps['ctx'],
  flag: string,
): Promise<string> {
  const entries = await readToc(pgRestore, file, ctx.env);
  const c = await connectPg(target, flag);
  let selection;
  try {
    selection = await selectTocEntries(entries, plan.tables, targetExistsCheck(c));
  } finally {
    await c.end().catch(() => undefined);
  }
  if (selection.skipped.length) {
    ctx.logger.warn(
      { skipped: selection.skipped.map(describeEntry) },
      `not restored with the selected tables (they need objects outside the selection): ${selection.skipped.map(describeEntry).join(', ')}`,
    );
  }
  const listFile = path.join(path.dirname(file), 'selection.list');
  await fs.writeFile(listFile, useListText(selection.ids));
  return listFile;
}

/**
 * Checks that restoring `plan` into the existing `target` destroys nothing it should not: a whole restore
 * needs a database without user tables, a selective one needs its tables absent and, in a database with other
 * user tables, `--clean --yes`; a data-only one needs its tables empty. `--clean --yes` lifts the first two.
 */
async function checkTarget(target: ConnInfo, plan: RestorePlan, flag: string): Promise<void> {
  const c = await connectPg(target, flag);
  try {
    const name = `target database "${target.database}"`;
    if (plan.dataOnly) {
      for (const t of plan.tables) {
        const r = await c.query<{ has: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS has`, [quoteTable(t)]);
        if (!r.rows[0]!.has) continue;
        const rows = await c.query(`SELECT 1 FROM ONLY ${quoteTable(t)} LIMIT 1`);
        if ((rows.rowCount ?? 0) > 0) {
          throw usageError('target_not_empty', `${name}: table ${qualified(t)} already has rows; a data-only restore would add to them`, 'Empty it first, or restore into a new database with --create');
        }
      }
      return;
    }
    if (plan.clean) return;
    if (plan.selective) {
      const present: string[] = [];
      for (const t of plan.tables) {
        const r = await c.query<{ has: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS has`, [quoteTable(t)]);
        if (r.rows[0]!.has) present.push(qualified(t));
      }
      if (present.length) {
        throw usageError('target_not_empty', `${name} already has ${present.join(', ')}; nothing was changed`, 'Pass --clean --yes to replace them, or restore into a new database with --create');
      }
      // Issue 2's rule holds for --table too: a database with user tables is only written with --clean --yes.
      // The confirmation costs nothing when the selected tables are absent (--clean --if-exists then drops
      // nothing), and it keeps "restore one lost table into production" a deliberate act.
      const others = await userTableCount(c);
      if (others > 0) {
        throw usageError(
          'target_not_empty',
          `${name} has ${others} user table${others === 1 ? '' : 's'}; restoring --table into it needs --clean --yes; nothing was changed`,
          'With --clean --yes only the selected tables and their own objects are dropped (if present) and restored; the other tables are not touched',
        );
      }
      return;
    }
    const n = await userTableCount(c);
    if (n > 0) {
      throw usageError(
        'target_not_empty',
        `${name} already has ${n} user table${n === 1 ? '' : 's'}; nothing was changed`,
        'Restore into a new database with --create, or pass --clean --yes to drop and replace the objects in the backup',
      );
    }
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** pg_restore of a fetched archive into a ready database, then the row-count comparison. */
export async function restoreArchive(
  file: string,
  backup: CompleteBackup,
  target: ConnInfo,
  plan: RestorePlan,
  deps: RestoreDeps,
  flag = '--target-url',
): Promise<{ comparison: RowCountComparison[] | null; ok: boolean }> {
  const { ctx } = deps;
  const spawner = deps.spawner ?? defaultSpawner;
  const tool = await findPgRestore(backup, ctx.env);

  const useList = plan.selective ? await writeSelectionList(tool.path, file, target, plan, ctx, flag) : undefined;

  const proc = watchChild(
    'pg_restore',
    spawner(tool.path, restoreArgs(file, target.database, plan, useList), { env: pgToolEnv(target, ctx.env), stdio: ['ignore', 'ignore', 'pipe'] }),
    pgRestoreWarning(ctx),
  );
  const onAbort = (): void => proc.kill();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  // On a terminal: how much of the archive pg_restore (and its -j workers) has read, with rate and ETA.
  const progress = createProgress(ctx.stderr, 'pg_restore', await fs.stat(file).then((st) => st.size, () => undefined));
  const poll = ctx.stderr.isTTY && proc.child.pid !== undefined ? setInterval(() => {
    const read = treeBytesRead(proc.child.pid!);
    if (read !== null) progress.update(read);
  }, 250) : undefined;
  let result;
  try {
    result = await proc.done;
  } finally {
    if (poll) clearInterval(poll);
    progress.done();
    ctx.signal.removeEventListener('abort', onAbort);
  }
  if (ctx.signal.aborted) throw runtimeError('interrupted', `restore into ${target.database} interrupted: the database is incomplete`);
  if (!childSucceeded(result)) throw pgRestoreFailure(result, backup, target, plan);
  return compareWithManifest(backup, target, plan, flag);
}

export async function restoreBackup(opts: RestoreOptions, deps: RestoreDeps): Promise<RestoreResult> {
  const { ctx } = deps;
  const flag = opts.targetFlag ?? '--target-url';
  validateRestoreFlags(opts);
  const backup = await resolveBackup(opts.storage, opts.ref, { engine: 'postgres', source: opts.source });
  opts.onResolved?.(backup);
  requireIdentityFor(backup, opts.identityText);
  const { tables, selective } = planTables(backup, opts.tables);
  // A data backup carries no definitions: it loads into tables that exist, as --data-only does.
  const dataKind = backup.manifest.kind === 'data';
  if (dataKind && (opts.clean || opts.schemaOnly || opts.create)) {
    const flag = opts.clean ? '--clean' : opts.schemaOnly ? '--schema-only' : '--create';
    throw usageError(
      'flags_conflict',
      `backup ${backup.id} is a data-only backup (kind data): ${flag} does not apply`,
      'Restore it into a database that has the tables (empty), without --clean, --schema-only or --create',
    );
  }
  const plan: RestorePlan = {
    tables,
    selective,
    schemaOnly: Boolean(opts.schemaOnly),
    dataOnly: Boolean(opts.dataOnly) || dataKind,
    clean: Boolean(opts.clean && opts.yes),
    jobs: opts.jobs ?? 1,
    noOwner: Boolean(opts.noOwner),
    noPrivileges: Boolean(opts.noPrivileges),
  };

  // Check the target before downloading anything: refusals are fast and change nothing.
  if (opts.create) {
    if (await databaseExists(opts.target, flag)) {
      throw usageError('target_exists', `database "${opts.target.database}" already exists on ${opts.target.host}:${opts.target.port}; nothing was changed`, 'Drop --create to restore into it, or choose a new name');
    }
  } else {
    try {
      await checkTarget(opts.target, plan, flag);
    } catch (e) {
      if ((e as { code?: string }).code === 'database_missing') {
        throw usageError('database_missing', `target database "${opts.target.database}" does not exist on ${opts.target.host}:${opts.target.port}`, 'Add --create to create it');
      }
      throw e;
    }
  }

  // A whole restore into an existing database without user objects can be undone exactly (runner/pg/scratch.ts).
  const emptyBefore = !opts.create && !plan.clean && !plan.dataOnly && !plan.selective ? await emptyState(opts.target, flag) : null;

  // A whole restore into a database it creates streams (runner/restore/stream.ts): no temp file, and
  // the checksums are checked as the data arrives, so a corrupt payload is found after it touched the target,
  // and only DROP DATABASE undoes that exactly (an existing database may have had its public schema altered, or
  // large objects added). Anything else is fetched and verified first.
  const undoable = Boolean(opts.create);
  // A schema backup has no data to stream (and its checksum would then be checked by no stream).
  const wholeRestore = !plan.selective && !plan.schemaOnly && !plan.dataOnly && !plan.clean && backup.manifest.kind !== 'schema';
  const streamed = undoable && wholeRestore ? await prepareStreamRestore({ backup, storage: opts.storage, identityText: opts.identityText, jobs: plan.jobs }, deps) : null;
  const archive = streamed ? null : await fetchArchive(backup, opts.storage, { identityText: opts.identityText, label: 'restore' }, deps);
  let created = false;
  try {
    if (opts.create) {
      await createDatabase(opts.target, flag);
      created = true;
    }
    let result: { comparison: RowCountComparison[] | null; ok: boolean };
    if (streamed) {
      ctx.logger.info({ backupId: backup.id, database: opts.target.database, jobs: plan.jobs, streams: streamed.streams, byFrames: streamed.byFrames }, `pg_restore started, ${streamed.streams} data stream${streamed.streams === 1 ? '' : 's'} ${streamed.byFrames ? 'reading only their own frames of' : 'each reading all of'} the payload; checksums checked as the data arrives`);
      result = await streamed.run(opts.target, plan, flag);
    } else {
      ctx.logger.info({ backupId: backup.id, database: opts.target.database, jobs: plan.jobs }, 'checksum verified; pg_restore started');
      result = await restoreArchive(archive!.file, backup, opts.target, plan, deps, flag);
    }
    return { backup, comparison: result.comparison, ok: result.ok };
  } catch (e) {
    // Nothing half-restored is left looking like a database: undo what this run made, and say what is left.
    const what = await undoFailedRestore(opts.target, flag, created, emptyBefore, plan);
    if (e instanceof Error) e.message = `${e.message}; ${what}`;
    throw e;
  } finally {
    await (streamed ?? archive)!.cleanup();
  }
}

async function emptyState(target: ConnInfo, flag: string): Promise<ScratchState | null> {
  const c = await connectPg(target, flag);
  try {
    const state = await scratchState(c);
    return state.userObjects === 0 ? state : null;
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function undoFailedRestore(target: ConnInfo, flag: string, created: boolean, emptyBefore: ScratchState | null, plan: RestorePlan): Promise<string> {
  const name = `"${target.database}"`;
  try {
    if (created) {
      await dropDatabase(target, flag);
      return `the database ${name} it created was dropped`;
    }
    if (emptyBefore) {
      const c = await connectPg(target, flag);
      try {
        await dropAddedObjects(c, emptyBefore);
      } finally {
        await c.end().catch(() => undefined);
      }
      return `what it had added to ${name} was removed`;
    }
  } catch (e) {
    return `cleaning up ${name} failed too (${(e as Error).message}): drop what the restore left there by hand`;
  }
  if (plan.clean) return `${name} was cleaned (--clean) and holds a partial restore`;
  return `${name} may hold part of the restore`;
}
