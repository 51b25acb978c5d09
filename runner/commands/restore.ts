/**
 * `lifeboat restore <id|latest> --target-url URL`: a backup back into a database, proven by row counts.
 *
 *   resolve ─▶ check the target (refuse one with user tables unless --clean --yes) ─▶ the backup's globals:
 *   refuse a target that lacks the roles the objects name, unless --roles ─▶ fetchArchive (sha256, decrypt,
 *   zstd -d into a temp file) ─▶ [CREATE DATABASE with the source's encoding and locale] ─▶ [--roles: CREATE
 *   ROLE for each one missing] ─▶ pg_restore --exit-on-error -j N ─▶ count rows of the restored tables and
 *   compare with the manifest ─▶ [--create: the database's owner, ACL, settings]
 *
 * A whole restore with --create streams instead (runner/restore/stream.ts): no temp file, N parallel streams,
 * the checksums checked as the data arrives, and the database dropped on any failure.
 *
 * restoreBackup(opts, deps) → RestoreResult never prints. The machinery is in runner/restore/: plan.ts (flags
 * and tables), target.ts (checks and undo), archive.ts (pg_restore of a fetched file), stream.ts (the streamed
 * restore), roles.ts (the roles the target needs), database.ts (the database itself with --create); the payload
 * is fetched through runner/payload/fetch.ts, the globals through runner/payload/globals.ts.
 */
import { resolveBackup, type CompleteBackup } from '../catalog/catalog';
import type { Globals } from '../contract/globals';
import { usageError } from '../errors';
import { unquoteIdent, withDatabase, type ConnInfo } from '../pg/connection';
import { createDatabase, databaseExists } from '../pg/databases';
import type { RowCountComparison } from '../pg/tables';
import type { Storage } from '../storage/types';
import { fetchArchive, requireIdentityFor } from '../payload/fetch';
import { fetchGlobals } from '../payload/globals';
import { applyDatabaseProperties, createDatabaseAsSource } from '../restore/database';
import { checkRoles, createMissingRoles, dropCreatedRoles, missingRolesError, type RoleCheck } from '../restore/roles';
import { restoreArchive } from '../restore/archive';
import type { RestoreDeps, RestorePlan } from '../restore/pg-restore';
import { planTables, validateRestoreFlags } from '../restore/plan';
import { prepareStreamRestore } from '../restore/stream';
import { checkTarget, createMissingSchemas, emptyState, undoFailedRestore } from '../restore/target';

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
  /** Create the roles the backup's objects name that the target lacks (existing roles are never altered). */
  roles?: boolean;
  /** With --create: a target server without the source's locale creates the database in its default one. */
  allowLocaleChange?: boolean;
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
  /** Roles --roles created (empty without it, or when the target had them all). */
  rolesCreated: string[];
  /** Anything the restore changed from the source's database (a locale, with --allow-locale-change). */
  notes: string[];
  /**
   * `--table --clean`: the target's foreign keys into the replaced tables that were left out because its rows
   * reference rows the backup's tables lack ("schema.table.constraint"); empty otherwise.
   */
  foreignKeysSkipped: string[];
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
  if (opts.allowLocaleChange && !opts.create) {
    throw usageError('flags_conflict', '--allow-locale-change applies only with --create (an existing database keeps its locale)');
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

  // The roles: a restore that sets owners or grants needs every role they name (policies need theirs even without).
  // Refused before anything is created or downloaded; with --roles, the missing ones are created below.
  const needsRoles = !plan.dataOnly && !(plan.noOwner && plan.noPrivileges);
  if (opts.roles && !backup.manifest.globals) {
    ctx.logger.warn({ backupId: backup.id }, `--roles: backup ${backup.id} was made before backups recorded their roles; no role is created`);
  }
  const serverConn = opts.create ? withDatabase(opts.target, 'postgres') : opts.target;
  const { globals, roleCheck, schemaOwners } = await readGlobals(backup, opts, serverConn, flag, needsRoles);
  if (roleCheck?.missingRequired.length && needsRoles && !opts.roles) throw missingRolesError(roleCheck, opts.target);

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
  let rolesCreated: string[] = [];
  const notes: string[] = [];
  try {
    if (opts.create) {
      if (globals) {
        const note = await createDatabaseAsSource(opts.target, flag, globals.database, Boolean(opts.allowLocaleChange), ctx.logger);
        if (note) notes.push(note);
      } else {
        await createDatabase(opts.target, flag);
      }
      created = true;
    }
    if (opts.roles && roleCheck?.missing.length) {
      rolesCreated = await createMissingRoles(serverConn, flag, globals!, roleCheck);
      ctx.logger.info({ roles: rolesCreated }, `created ${rolesCreated.length} role${rolesCreated.length === 1 ? '' : 's'} the target lacked: ${rolesCreated.join(', ')}`);
    }
    // A --table backup carries its tables but not their schemas (pg_dump --table): those the target lacks first.
    if (backup.manifest.kind === 'tables' && !plan.dataOnly) {
      await createMissingSchemas(opts.target, flag, [...new Set(plan.tables.map((t) => t.schema))], schemaOwners);
    }
    let result: { comparison: RowCountComparison[] | null; ok: boolean; foreignKeysSkipped?: string[] };
    if (streamed) {
      ctx.logger.info({ backupId: backup.id, database: opts.target.database, jobs: plan.jobs, streams: streamed.streams, byFrames: streamed.byFrames }, `pg_restore started, ${streamed.streams} data stream${streamed.streams === 1 ? '' : 's'} ${streamed.byFrames ? 'reading only their own frames of' : 'each reading all of'} the payload; checksums checked as the data arrives`);
      result = await streamed.run(opts.target, plan, flag);
    } else {
      ctx.logger.info({ backupId: backup.id, database: opts.target.database, jobs: plan.jobs }, 'checksum verified; pg_restore started');
      result = await restoreArchive(archive!.file, backup, opts.target, plan, deps, flag);
    }
    // The database itself, once its contents are in (database.ts says why last).
    if (created && globals) await applyDatabaseProperties(opts.target, flag, globals.database, { noOwner: plan.noOwner, noPrivileges: Boolean(plan.noPrivileges) });
    return { backup, comparison: result.comparison, ok: result.ok, rolesCreated, notes, foreignKeysSkipped: result.foreignKeysSkipped ?? [] };
  } catch (e) {
    // Nothing half-restored is left looking like a database: undo what this run made, and say what is left.
    const what = opts.create && !created ? 'nothing was created' : await undoFailedRestore(opts.target, flag, created, emptyBefore, plan);
    const roles = await dropCreatedRoles(serverConn, flag, rolesCreated).catch((x: unknown) => `dropping the roles it created failed (${(x as Error).message}): ${rolesCreated.join(', ')}`);
    const left = [what, roles].filter((x) => x && !(e instanceof Error && e.message.endsWith(x)));
    if (e instanceof Error && left.length) e.message = `${e.message}; ${left.join('; ')}`;
    throw e;
  } finally {
    await (streamed ?? archive)!.cleanup();
  }
}

/**
 * The backup's globals as the restore needs them (null when it needs none or the backup has none), the roles
 * checked against the target, and a --table backup's schema owners. The globals come back without their catalog:
 * that fingerprint is an entry per object (33,600 for 8,000 small tables, 4 MiB of JSON, ~10 MiB of heap) which
 * only drills compare with, and the restore holds its globals to the end (the database's properties go last).
 */
async function readGlobals(
  backup: CompleteBackup,
  opts: RestoreOptions,
  serverConn: ConnInfo,
  flag: string,
  needsRoles: boolean,
): Promise<{ globals: Globals | null; roleCheck: RoleCheck | null; schemaOwners: Map<string, string> }> {
  const fetched = backup.manifest.globals && (needsRoles || opts.roles || opts.create) ? await fetchGlobals(backup, opts.storage, opts.identityText) : null;
  const roleCheck = fetched && (needsRoles || opts.roles) ? await checkRoles(serverConn, flag, fetched) : null;
  const schemaOwners = new Map(
    backup.manifest.kind === 'tables' ? (fetched?.catalog ?? []).filter((e) => e.kind === 'schema' && e.owner !== null).map((e) => [unquoteIdent(e.name), e.owner!] as const) : [],
  );
  if (!fetched) return { globals: null, roleCheck, schemaOwners };
  const { catalog: _catalog, ...globals } = fetched;
  return { globals, roleCheck, schemaOwners };
}
