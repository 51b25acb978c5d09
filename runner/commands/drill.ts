/**
 * `lifeboat drill --scratch-url URL`: proves the backups restore, and how fast, on a schedule.
 *
 *   resolve the backup (an id or latest) and the newest complete full backup of its source (RPO is measured
 *   from that one's snapshot, whichever backup is drilled) ─▶ its globals ─▶ preflight the scratch server ─▶
 *   clock starts ─▶ exactly what restore --create --roles does: CREATE DATABASE <scratch> with the source's
 *   encoding and locale, CREATE ROLE for each role the scratch server lacks, the streamed restore (restore/
 *   stream.ts; a schema backup: fetchArchive, then pg_restore) with owners and grants, the database's owner, ACL
 *   and settings ─▶ row counts against the manifest ─▶ clock stops (RTO) ─▶ the restored catalog against the
 *   fingerprint taken at backup time, the database's properties against the source's ─▶ [amcheck] ─▶ DROP
 *   DATABASE <scratch> and DROP ROLE for the roles it created (always, also on failure) ─▶ the report, stored
 *   under drills/ and returned
 *
 * A backup made before backups recorded their globals is drilled as before: --no-owner --no-privileges, no role
 * or catalog check (the report says so).
 *
 * Reusable: runDrill(opts, deps) → DrillResult (never prints). A failed restore or check does not throw: it is
 * a failed check in the report (so the report says why). Problems before anything is touched (unknown backup,
 * unreachable scratch server, a missing identity) throw.
 */
import { listBackups, resolveBackup, type CompleteBackup } from '../catalog/catalog';
import type { RunContext } from '../context';
import { drillReportKey } from '../contract/layout';
import { runAmcheck, type AmcheckResult } from '../drill/amcheck';
import { DRILL_REPORT_FORMAT_VERSION, formatSeconds, objective, type DrillCheck, type DrillReport } from '../drill/report';
import { scratchDatabaseName, scratchPrefix } from '../drill/scratch';
import { dropStaleScratch, holdScratchLock } from '../drill/stale';
import { describeError, runtimeError, usageError } from '../errors';
import type { Globals } from '../contract/globals';
import { diffCatalog, describeCatalogDiff, readCatalogFingerprint } from '../pg/catalog-fingerprint';
import { connectPg, unquoteIdent, withDatabase, type ConnInfo } from '../pg/connection';
import { readDatabaseProperties } from '../pg/database-properties';
import { createDatabase, databaseExists, dropDatabase } from '../pg/databases';
import { qualified, type RowCountComparison } from '../pg/tables';
import type { Spawner } from '../pipeline/spawn';
import { redact } from '../redact';
import type { Storage } from '../storage/types';
import { fetchArchive, requireIdentityFor } from '../payload/fetch';
import { fetchGlobals } from '../payload/globals';
import { restoreArchive } from '../restore/archive';
import { applyDatabaseProperties, createDatabaseAsSource } from '../restore/database';
import { checkRoles, createMissingRoles, dropCreatedRoles } from '../restore/roles';
import { createMissingSchemas } from '../restore/target';
import type { RestorePlan } from '../restore/pg-restore';
import { planTables, validateJobs } from '../restore/plan';
import { prepareStreamRestore } from '../restore/stream';

export interface DrillOptions {
  storage: Storage;
  /** A backup id or `latest`. */
  ref: string;
  source?: string;
  /** The scratch server; its database part is the scratch name's prefix (runner/drill/scratch.ts). */
  scratch: ConnInfo;
  rpoTargetSeconds?: number | null;
  rtoTargetSeconds?: number | null;
  amcheck?: boolean;
  /** pg_restore -j; default 1. */
  jobs?: number;
  identityText?: string;
  /** Called as soon as the backup is chosen, so a later failure can still say which backup it was. */
  onResolved?: (backup: CompleteBackup) => void;
}

export interface DrillDeps {
  ctx: Pick<RunContext, 'env' | 'logger' | 'now' | 'signal' | 'stderr'>;
  spawner?: Spawner;
  /** Random suffix of the scratch database name (tests). */
  random?: () => string;
}

export interface DrillResult {
  report: DrillReport;
  /** Null when the report was stored; else why not (the drill then fails). */
  storeError: string | null;
}

const FLAG = '--scratch-url';

/** The newest complete backup that brings the whole database back: RPO is measured from its snapshot. */
export function newestFullBackup(backups: readonly CompleteBackup[]): CompleteBackup | null {
  let best: CompleteBackup | null = null;
  for (const b of backups) {
    if (b.manifest.kind !== 'full') continue;
    if (!best || Date.parse(b.manifest.snapshotAt) > Date.parse(best.manifest.snapshotAt)) best = b;
  }
  return best;
}

function seconds(from: Date, to: Date): number {
  return Math.round(to.getTime() - from.getTime()) / 1000;
}

function rowCountCheck(comparison: RowCountComparison[] | null, restored: boolean): DrillCheck {
  if (!restored) return { name: 'row counts', ok: false, detail: 'not checked: the restore failed' };
  if (comparison === null) return { name: 'row counts', ok: true, detail: 'no data in this backup (schema only)' };
  const bad = comparison.filter((c) => !c.ok);
  if (bad.length === 0) return { name: 'row counts', ok: true, detail: `${comparison.length} tables match the manifest` };
  const shown = bad
    .slice(0, 5)
    .map((b) => `${qualified(b)} expected ${b.expected ?? '-'}, got ${b.actual ?? 'missing'}`)
    .join('; ');
  return { name: 'row counts', ok: false, detail: `${bad.length} of ${comparison.length} tables differ: ${shown}${bad.length > 5 ? '; ...' : ''}` };
}

function amcheckCheck(a: AmcheckResult | null, restored: boolean): DrillCheck {
  if (!restored || a === null) return { name: 'amcheck', ok: false, detail: 'not run: the restore failed' };
  if (!a.ran) return { name: 'amcheck', ok: false, detail: a.error ?? 'could not run' };
  if (a.failures.length === 0) return { name: 'amcheck', ok: true, detail: `${a.indexesChecked} B-tree indexes consistent` };
  return { name: 'amcheck', ok: false, detail: `${a.failures.length} of ${a.indexesChecked} indexes corrupt: ${a.failures.map((f) => f.index).join(', ')}` };
}

function targetText(target: number | null): string {
  return target === null ? 'no target' : `target ${formatSeconds(target)}`;
}

async function amcheckIn(conn: ConnInfo): Promise<AmcheckResult> {
  const c = await connectPg(conn, FLAG);
  try {
    return await runAmcheck(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * The restored database against the source: its catalog against the fingerprint taken in the dump's snapshot,
 * its own properties (owner, encoding, locale, ACL, settings) against the recorded ones.
 */
async function catalogChecks(scratch: ConnInfo, globals: Globals): Promise<{ catalog: DrillCheck; database: DrillCheck }> {
  const c = await connectPg(scratch, FLAG);
  try {
    let catalog: DrillCheck;
    if (!globals.catalog) {
      catalog = { name: 'catalog', ok: true, detail: 'not checked: the backup recorded no catalog fingerprint' };
    } else {
      const diff = diffCatalog(globals.catalog, await readCatalogFingerprint(c));
      const lines = describeCatalogDiff(diff);
      const kinds = Object.entries(diff.kinds).map(([k, n]) => `${n} ${k}`).join(', ');
      catalog = lines.length
        ? { name: 'catalog', ok: false, detail: `${lines.length} difference${lines.length === 1 ? '' : 's'} from the source: ${lines.slice(0, 5).join('; ')}${lines.length > 5 ? '; ...' : ''}` }
        : { name: 'catalog', ok: true, detail: `objects, owners, ACLs and policies as in the source (${kinds || 'no objects'})` };
    }
    const restored = await readDatabaseProperties(c);
    const differs = databaseDifferences(globals.database, restored);
    const database: DrillCheck = differs.length
      ? { name: 'database', ok: false, detail: `differs from the source: ${differs.join('; ')}` }
      : { name: 'database', ok: true, detail: `owner ${restored.owner}, ${restored.encoding}, locale ${restored.collate}, ACL and ${restored.settings.length + restored.roleSettings.length} settings as in the source` };
    return { catalog, database };
  } finally {
    await c.end().catch(() => undefined);
  }
}

function databaseDifferences(source: Globals['database'], restored: Globals['database']): string[] {
  const out: string[] = [];
  const fields = ['owner', 'encoding', 'localeProvider', 'collate', 'ctype', 'locale', 'connectionLimit', 'comment'] as const;
  for (const f of fields) if (source[f] !== restored[f]) out.push(`${f} ${String(restored[f])}, not ${String(source[f])}`);
  const acl = (a: Globals['database']['acl']): string => (a === null ? 'default' : a.map((i) => `${i.grantee ?? 'PUBLIC'}:${i.privilege}${i.grantable ? '*' : ''}`).sort().join(','));
  if (acl(source.acl) !== acl(restored.acl)) out.push(`ACL ${acl(restored.acl)}, not ${acl(source.acl)}`);
  const settings = (d: Globals['database']): string =>
    [...d.settings.map((s) => `*:${s}`), ...d.roleSettings.flatMap((r) => r.settings.map((s) => `${r.role}:${s}`))].sort().join(',');
  if (settings(source) !== settings(restored)) out.push(`settings ${settings(restored)}, not ${settings(source)}`);
  return out;
}

export async function runDrill(opts: DrillOptions, deps: DrillDeps): Promise<DrillResult> {
  const { ctx } = deps;
  const jobs = opts.jobs ?? 1;
  validateJobs(jobs);
  const startedAt = ctx.now();
  const resolved = await resolveBackup(opts.storage, opts.ref, { engine: 'postgres', source: opts.source });
  const newest = newestFullBackup(await listBackups(opts.storage, { engine: 'postgres', source: resolved.source }));
  // `latest` drills what a disaster would restore: the newest full backup, not a schema-only or partial
  // backup taken by hand since (that one would "pass" without proving the data restores).
  const backup = opts.ref === 'latest' && newest ? newest : resolved;
  opts.onResolved?.(backup);
  if (backup.manifest.kind === 'data') {
    throw usageError('drill_data_backup', `backup ${backup.id} is a data-only backup (kind data): it cannot be restored into a fresh scratch database`, 'Drill a full backup (--backup latest drills the newest full one)');
  }
  requireIdentityFor(backup, opts.identityText);
  const globals = await fetchGlobals(backup, opts.storage, opts.identityText);

  const scratch = withDatabase(opts.scratch, scratchDatabaseName(scratchPrefix(opts.scratch.database), startedAt, deps.random));
  // Preflight: the server answers, and the name is free (CREATE DATABASE would refuse it anyway).
  if (await databaseExists(scratch, FLAG)) {
    throw usageError('scratch_exists', `scratch database "${scratch.database}" already exists on ${scratch.host}:${scratch.port}; nothing was changed`);
  }
  ctx.logger.info({ source: backup.source, backupId: backup.id, scratch: scratch.database }, 'drill started');

  let restoreError: unknown = null;
  let created = false;
  let rolesCreated: string[] = [];
  let rolesDropped: string | null = null;
  let catalog: DrillCheck | null = null;
  let database: DrillCheck | null = null;
  let comparison: RowCountComparison[] | null = null;
  let rtoSeconds: number | null = null;
  let amcheck: AmcheckResult | null = null;
  let dropError: unknown = null;
  // Held while the drill runs: a later drill knows from it that this scratch database is not stale.
  const lock = await holdScratchLock(scratch, scratch.database, FLAG);
  const staleDropped = await dropStaleScratch(scratch, scratchPrefix(opts.scratch.database), scratch.database, FLAG).catch((e: unknown) => {
    ctx.logger.warn({}, `looking for scratch databases of killed drills failed: ${redact(describeError(e))}`);
    return [];
  });
  if (staleDropped.length) {
    ctx.logger.warn({ dropped: staleDropped }, `dropped ${staleDropped.length} scratch database${staleDropped.length === 1 ? '' : 's'} left by drills that were killed: ${staleDropped.join(', ')}`);
  }
  const clock = ctx.now();
  try {
    // The drill restores as a disaster would (restore --create): streamed, into a database it creates and
    // always drops, so a checksum found wrong after the data is loaded costs nothing (restore/stream.ts).
    const streamed =
      backup.manifest.kind !== 'schema' ? await prepareStreamRestore({ backup, storage: opts.storage, identityText: opts.identityText, jobs }, deps) : null;
    const archive = streamed ? null : await fetchArchive(backup, opts.storage, { identityText: opts.identityText, label: 'drill' }, deps);
    try {
      const server = withDatabase(scratch, 'postgres');
      if (globals) {
        // A locale the scratch server lacks fails the drill: the real restore onto such a server would stop too.
        await createDatabaseAsSource(scratch, FLAG, globals.database, false, ctx.logger);
      } else {
        await createDatabase(scratch, FLAG);
      }
      created = true;
      if (globals) {
        rolesCreated = await createMissingRoles(server, FLAG, globals, await checkRoles(server, FLAG, globals));
        if (rolesCreated.length) ctx.logger.info({ roles: rolesCreated }, `created roles the scratch server lacked: ${rolesCreated.join(', ')}`);
      }
      // A --table backup carries no schemas (pg_dump --table): those of its tables first, as restore does.
      if (backup.manifest.kind === 'tables') {
        const owners = new Map((globals?.catalog ?? []).filter((e) => e.kind === 'schema' && e.owner !== null).map((e) => [unquoteIdent(e.name), e.owner!]));
        await createMissingSchemas(scratch, FLAG, [...new Set(backup.manifest.tables.map((t) => t.schema))], owners);
      }
      // Older backups recorded no roles: restored without owners and grants, which the scratch server may lack.
      const plan: RestorePlan = { ...planTables(backup, undefined), schemaOnly: false, dataOnly: false, clean: false, jobs, noOwner: !globals, noPrivileges: !globals };
      ({ comparison } = streamed ? await streamed.run(scratch, plan, FLAG) : await restoreArchive(archive!.file, backup, scratch, plan, deps, FLAG));
      if (globals) await applyDatabaseProperties(scratch, FLAG, globals.database, { noOwner: false, noPrivileges: false });
      rtoSeconds = seconds(clock, ctx.now());
    } finally {
      await (streamed ?? archive)!.cleanup();
    }
    if (globals) ({ catalog, database } = await catalogChecks(scratch, globals));
    if (opts.amcheck) amcheck = await amcheckIn(scratch);
  } catch (e) {
    restoreError = e;
  } finally {
    if (created) {
      try {
        await dropDatabase(scratch, FLAG);
      } catch (e) {
        dropError = e;
        ctx.logger.error({ scratch: scratch.database }, `could not drop scratch database "${scratch.database}": ${describeError(e)}`);
      }
    }
    // The roles it created go too, once nothing of theirs is left (the scratch database is gone).
    if (rolesCreated.length) {
      rolesDropped = await dropCreatedRoles(withDatabase(scratch, 'postgres'), FLAG, rolesCreated).catch((e: unknown) => `dropping them failed: ${redact(describeError(e))}`);
    }
    await lock.release();
  }
  if (ctx.signal.aborted) throw runtimeError('interrupted', `drill interrupted${created && !dropError ? '; the scratch database was dropped' : ''}`);

  const restored = restoreError === null || rtoSeconds !== null;
  const rpoSeconds = newest ? seconds(new Date(newest.manifest.snapshotAt), startedAt) : null;
  const rpo = objective(rpoSeconds, opts.rpoTargetSeconds ?? null);
  const rto = objective(rtoSeconds, opts.rtoTargetSeconds ?? null);
  const checks: DrillCheck[] = [
    {
      name: 'restore',
      ok: restored,
      detail: restored ? `restored into the scratch database in ${formatSeconds(rtoSeconds)}` : redact(describeError(restoreError)),
    },
    rowCountCheck(comparison, restored),
  ];
  if (globals) {
    checks.push(
      catalog ?? { name: 'catalog', ok: false, detail: restored ? redact(describeError(restoreError)) : 'not checked: the restore failed' },
      database ?? { name: 'database', ok: false, detail: restored ? redact(describeError(restoreError)) : 'not checked: the restore failed' },
    );
  } else {
    checks.push({ name: 'catalog', ok: true, detail: `not checked: backup ${backup.id} was made before backups recorded their roles and catalog (restored without owners and grants)` });
  }
  if (opts.amcheck) {
    const a = amcheckCheck(amcheck, restored);
    // amcheck itself failed to run after a good restore (e.g. lost connection): say so.
    if (restored && amcheck === null && restoreError) a.detail = redact(describeError(restoreError));
    checks.push(a);
  }
  checks.push(
    {
      name: 'rpo',
      ok: rpo.ok,
      detail: newest
        ? `newest full backup ${newest.id} is ${formatSeconds(rpoSeconds)} old (${targetText(rpo.targetSeconds)})`
        : `no complete full backup of ${backup.source} (${targetText(rpo.targetSeconds)})`,
    },
    { name: 'rto', ok: rto.ok, detail: `${rtoSeconds === null ? 'not measured' : `restore took ${formatSeconds(rtoSeconds)}`} (${targetText(rto.targetSeconds)})` },
    {
      name: 'scratch dropped',
      ok: dropError === null,
      detail: dropError === null ? (created ? `${scratch.database} dropped` : 'never created') : `${scratch.database} is left behind: ${redact(describeError(dropError))}`,
    },
  );
  if (globals) {
    const leftRoles = rolesDropped !== null && !/were dropped$/.test(rolesDropped);
    checks.push({
      name: 'roles',
      ok: !leftRoles,
      detail: rolesCreated.length
        ? `created ${rolesCreated.join(', ')} for the restore; ${rolesDropped ?? 'not dropped'}`
        : `the scratch server had every role the backup names (${globals.roles.length}); none created`,
    });
  }

  const finishedAt = ctx.now();
  const reportKey = drillReportKey('postgres', backup.source, startedAt);
  const m = backup.manifest;
  const report: DrillReport = {
    formatVersion: DRILL_REPORT_FORMAT_VERSION,
    engine: 'postgres',
    source: backup.source,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    backup: { id: m.id, class: m.class, kind: m.kind, snapshotAt: m.snapshotAt, storedBytes: m.payload.storedBytes },
    newestBackup: newest ? { id: newest.id, snapshotAt: newest.manifest.snapshotAt } : null,
    scratch: { server: `${scratch.host}:${scratch.port}`, database: scratch.database, dropped: created ? dropError === null : false },
    rpo,
    rto,
    tables: comparison,
    rolesCreated,
    staleScratchDropped: staleDropped,
    amcheck,
    checks,
    passed: checks.every((c) => c.ok),
    reportKey,
  };

  let storeError: string | null = null;
  try {
    await opts.storage.putBytes(reportKey, JSON.stringify(report, null, 2) + '\n', { contentType: 'application/json' });
  } catch (e) {
    storeError = `the drill report could not be stored at ${opts.storage.url}/${reportKey}: ${redact(describeError(e))}`;
    ctx.logger.error({ reportKey }, storeError);
  }
  return { report, storeError };
}
