/**
 * `lifeboat drill --scratch-url URL`: proves the backups restore, and how fast, on a schedule.
 *
 *   resolve the backup (an id or latest) and the newest complete full backup of its source (RPO is measured
 *   from that one's snapshot, whichever backup is drilled) ─▶ preflight the scratch server ─▶ clock starts ─▶
 *   CREATE DATABASE <scratch> ─▶ the streamed restore of restore --create (restore/stream.ts; a schema backup:
 *   fetchArchive, then pg_restore) with --no-owner --no-privileges (the scratch server, e.g. a DR instance, may
 *   lack the source's roles) ─▶ row counts
 *   against the manifest ─▶ clock stops (RTO) ─▶ [amcheck] ─▶ DROP DATABASE <scratch> (always, also on failure)
 *   ─▶ the report, stored under drills/ and returned
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
import { describeError, runtimeError, usageError } from '../errors';
import { connectPg, withDatabase, type ConnInfo } from '../pg/connection';
import { createDatabase, databaseExists, dropDatabase } from '../pg/databases';
import { qualified, type RowCountComparison } from '../pg/tables';
import type { Spawner } from '../pipeline/spawn';
import { redact } from '../redact';
import type { Storage } from '../storage/types';
import { fetchArchive, requireIdentityFor } from '../payload/fetch';
import { restoreArchive } from '../restore/archive';
import type { RestorePlan } from '../restore/pg-restore';
import { planTables } from '../restore/plan';
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

export async function runDrill(opts: DrillOptions, deps: DrillDeps): Promise<DrillResult> {
  const { ctx } = deps;
  const jobs = opts.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1) throw usageError('jobs_invalid', `--jobs expected a whole number >= 1, got ${String(opts.jobs)}`);
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

  const scratch = withDatabase(opts.scratch, scratchDatabaseName(scratchPrefix(opts.scratch.database), startedAt, deps.random));
  // Preflight: the server answers, and the name is free (CREATE DATABASE would refuse it anyway).
  if (await databaseExists(scratch, FLAG)) {
    throw usageError('scratch_exists', `scratch database "${scratch.database}" already exists on ${scratch.host}:${scratch.port}; nothing was changed`);
  }
  ctx.logger.info({ source: backup.source, backupId: backup.id, scratch: scratch.database }, 'drill started');

  let restoreError: unknown = null;
  let created = false;
  let comparison: RowCountComparison[] | null = null;
  let rtoSeconds: number | null = null;
  let amcheck: AmcheckResult | null = null;
  let dropError: unknown = null;
  const clock = ctx.now();
  try {
    // The drill restores as a disaster would (restore --create): streamed, into a database it creates and
    // always drops, so a checksum found wrong after the data is loaded costs nothing (restore/stream.ts).
    const streamed =
      backup.manifest.kind !== 'schema' ? await prepareStreamRestore({ backup, storage: opts.storage, identityText: opts.identityText, jobs }, deps) : null;
    const archive = streamed ? null : await fetchArchive(backup, opts.storage, { identityText: opts.identityText, label: 'drill' }, deps);
    try {
      await createDatabase(scratch, FLAG);
      created = true;
      const plan: RestorePlan = { ...planTables(backup, undefined), schemaOnly: false, dataOnly: false, clean: false, jobs, noOwner: true, noPrivileges: true };
      ({ comparison } = streamed ? await streamed.run(scratch, plan, FLAG) : await restoreArchive(archive!.file, backup, scratch, plan, deps, FLAG));
      rtoSeconds = seconds(clock, ctx.now());
    } finally {
      await (streamed ?? archive)!.cleanup();
    }
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
