/**
 * `lifeboat verify <id|latest> [--restore-into URL]`: proves a backup is readable and, optionally, restorable.
 *
 *   resolve ─▶ fetchArchive (sha256 of the stored bytes, decrypt, the frame index, zstd -d)
 *   ─▶ pg_restore --file=/dev/null (reads every entry of the archive, data included) ─▶ with --restore-into:
 *   restore into that database, compare row counts with the manifest, then drop what the restore created (the
 *   whole database if verify created it; otherwise the objects it added to the empty database it was given)
 *
 * Reusable: verifyBackup(opts, deps) → VerifyResult (never prints). Drills build on it.
 */
import type { CompleteBackup } from '../catalog/catalog';
import { resolveBackup } from '../catalog/catalog';
import { runtimeError, usageError } from '../errors';
import { connectPg, withDatabase, type ConnInfo } from '../pg/connection';
import { createDatabase, databaseExists, dropDatabase } from '../pg/databases';
import { dropAddedObjects, scratchState, type ScratchState } from '../pg/scratch';
import type { RowCountComparison } from '../pg/tables';
import { findTool, parseToolVersion } from '../pg/tools';
import { childSucceeded, defaultSpawner, describeChildFailure, watchChild } from '../pipeline/spawn';
import type { Storage } from '../storage/types';
import { fetchArchive, requireIdentityFor } from '../payload/fetch';
import { fetchGlobals } from '../payload/globals';
import { restoreArchive } from '../restore/archive';
import { checkRoles, createMissingRoles, dropCreatedRoles, missingRolesError } from '../restore/roles';
import type { RestoreDeps } from '../restore/pg-restore';
import { planTables, validateJobs } from '../restore/plan';

export interface VerifyOptions {
  storage: Storage;
  ref: string;
  source?: string;
  /** A scratch database: created and dropped when missing, else it must be empty and is emptied afterwards. */
  restoreInto?: ConnInfo;
  jobs?: number;
  noOwner?: boolean;
  noPrivileges?: boolean;
  /** Create the roles the backup's objects name that the scratch server lacks; dropped again afterwards. */
  roles?: boolean;
  identityText?: string;
  /** Called as soon as the backup is resolved, so a later failure can still say which backup it was. */
  onResolved?: (backup: CompleteBackup) => void;
}

export interface VerifyResult {
  backup: CompleteBackup;
  /** Row-count comparison of the scratch restore; null without --restore-into or for schema-only backups. */
  comparison: RowCountComparison[] | null;
  ok: boolean;
  /** What the scratch restore did with the database: created+dropped, or emptied again. */
  scratch: 'created-and-dropped' | 'emptied' | null;
  /** Roles --roles created for the scratch restore (dropped again afterwards). */
  rolesCreated: string[];
}

async function readWholeArchive(file: string, backup: CompleteBackup, deps: RestoreDeps): Promise<void> {
  const { ctx } = deps;
  const minMajor = parseToolVersion(`(PostgreSQL) ${backup.manifest.tools.pg_dump ?? backup.manifest.server.version}`)?.major ?? 0;
  const tool = await findTool('pg_restore', minMajor, `backup ${backup.id} was written by pg_dump ${backup.manifest.tools.pg_dump ?? '?'}`, ctx.env);
  const spawner = deps.spawner ?? defaultSpawner;
  const env: NodeJS.ProcessEnv = { ...ctx.env, LC_ALL: 'C', LC_MESSAGES: 'C' };
  const proc = watchChild('pg_restore', spawner(tool.path, ['--file=/dev/null', file], { env, stdio: ['ignore', 'ignore', 'pipe'] }));
  const onAbort = (): void => proc.kill();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const r = await proc.done;
    if (ctx.signal.aborted) throw runtimeError('interrupted', 'verify interrupted');
    if (!childSucceeded(r)) throw runtimeError('archive_unreadable', `backup ${backup.id}: ${describeChildFailure(r)}`);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

export async function verifyBackup(opts: VerifyOptions, deps: RestoreDeps): Promise<VerifyResult> {
  if (opts.jobs !== undefined) validateJobs(opts.jobs);
  const backup = await resolveBackup(opts.storage, opts.ref, { engine: 'postgres', source: opts.source });
  opts.onResolved?.(backup);
  requireIdentityFor(backup, opts.identityText);
  if (opts.restoreInto && backup.manifest.kind === 'data') {
    throw usageError(
      'verify_data_backup',
      `backup ${backup.id} is a data-only backup (kind data): --restore-into cannot restore it into an empty scratch database`,
      'Verify it without --restore-into (checksum and a full read)',
    );
  }

  // Check the scratch database before the download: a refusal is fast and touches nothing.
  let before: ScratchState | null = null;
  const target = opts.restoreInto;
  if (target) {
    if (await databaseExists(target, '--restore-into')) {
      const c = await connectPg(target, '--restore-into');
      try {
        before = await scratchState(c);
      } finally {
        await c.end().catch(() => undefined);
      }
      if (before.userObjects > 0) {
        throw usageError(
          'target_not_empty',
          `--restore-into database "${target.database}" is not empty (${before.userObjects} user objects); nothing was changed`,
          'Name a database that does not exist (verify creates and drops it) or an empty one',
        );
      }
    }
  }

  // The roles, as restore checks them: a scratch server that lacks a role the objects name is refused before the
  // download, unless --roles (or --no-owner --no-privileges); roles it creates are dropped again afterwards.
  const needsRoles = Boolean(target) && !(opts.noOwner && opts.noPrivileges);
  const server = target ? (before ? target : withDatabase(target, 'postgres')) : null;
  const globals = server && backup.manifest.globals && (needsRoles || opts.roles) ? await fetchGlobals(backup, opts.storage, opts.identityText) : null;
  const roleCheck = globals && server ? await checkRoles(server, '--restore-into', globals) : null;
  if (roleCheck?.missingRequired.length && needsRoles && !opts.roles) throw missingRolesError(roleCheck, target!);

  const archive = await fetchArchive(backup, opts.storage, { identityText: opts.identityText, label: 'verify', checkFrames: true }, deps);
  let rolesCreated: string[] = [];
  try {
    await readWholeArchive(archive.file, backup, deps);
    if (!target) return { backup, comparison: null, ok: true, scratch: null, rolesCreated };

    const created = before === null;
    if (created) await createDatabase(target, '--restore-into');
    try {
      if (opts.roles && roleCheck?.missing.length) {
        rolesCreated = await createMissingRoles(server!, '--restore-into', globals!, roleCheck);
        deps.ctx.logger.info({ roles: rolesCreated }, `created roles the scratch server lacked: ${rolesCreated.join(', ')}`);
      }
      const { tables } = planTables(backup, undefined);
      const plan = { tables, selective: false, schemaOnly: false, dataOnly: false, clean: false, jobs: opts.jobs ?? 1, noOwner: Boolean(opts.noOwner), noPrivileges: Boolean(opts.noPrivileges) };
      const { comparison, ok } = await restoreArchive(archive.file, backup, target, plan, deps, '--restore-into');
      return { backup, comparison, ok, scratch: created ? 'created-and-dropped' : 'emptied', rolesCreated };
    } finally {
      if (created) {
        await dropDatabase(target, '--restore-into');
      } else {
        const c = await connectPg(target, '--restore-into');
        try {
          await dropAddedObjects(c, before!);
        } finally {
          await c.end().catch(() => undefined);
        }
      }
      // After the scratch database (its objects owned by them) is gone.
      if (rolesCreated.length) {
        const dropped = await dropCreatedRoles(server!, '--restore-into', rolesCreated);
        deps.ctx.logger.info({ roles: rolesCreated }, dropped);
      }
    }
  } finally {
    await archive.cleanup();
  }
}
