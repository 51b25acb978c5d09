/**
 * `lifeboat pitr drill`: proves the PITR window exists. Restores the source to a moment into a private temp
 * folder, starts a throwaway server on it, and checks that recovery stopped at the target, that the last
 * heartbeat written before the target is there and the first one after it is not. Measures RTO (restore,
 * recovery, first query) and RPO (the archive lag on the source), stores the report under
 * drills/pitr/<source>/ and removes everything it made, even when killed (runner/pitr/workspace.ts).
 */
import path from 'node:path';
import { promises as fs } from 'node:fs';
import type { RunContext } from '../context';
import { pitrDrillReportKey } from '../contract/layout';
import { describeError, isLifeboatError } from '../errors';
import { objective } from '../drill/report';
import { connectPg, type ConnInfo } from '../pg/connection';
import type { Storage } from '../storage/types';
import { archiverProblem, archiverStatus, type ArchiverStatus } from '../pitr/archiver';
import { readPitrConfig } from '../pitr/config';
import { checkRestoredHeartbeats, hasHeartbeats, heartbeatsAround, type Heartbeat, type HeartbeatsAround } from '../pitr/heartbeat';
import { ownerOf } from '../pitr/os-user';
import { runPgbackrest, stanzaInfo, type PgbackrestBackup } from '../pitr/pgbackrest';
import { PITR_DRILL_REPORT_FORMAT_VERSION, type PitrDrillCheck, type PitrDrillReport } from '../pitr/report';
import { freePort, logTail, parseRecoveryLog, startDrillServer, type DrillServer, type RecoveryOutcome } from '../pitr/server';
import { pgTime } from '../pitr/target-time';
import { backupForTarget } from '../pitr/window';
import { openDrillWorkspace, removeStaleDrills, type DrillWorkspace } from '../pitr/workspace';

export interface PitrDrillOptions {
  configDir: string;
  source: string;
  target: Date;
  /** The source database: heartbeats and the archive lag are read there. */
  conn: ConnInfo;
  /** Where the report goes (the storage holding the repository). */
  storage: Storage;
  rpoTargetSeconds: number | null;
  rtoTargetSeconds: number | null;
  cipherPass?: string;
}

const seconds = (ms: number): number => Math.round(ms) / 1000;
const iso = (h: Heartbeat | null): { id: string; at: string } | null => (h ? { id: h.id, at: new Date(h.at).toISOString() } : null);

export async function runPitrDrill(opts: PitrDrillOptions, deps: { ctx: RunContext }): Promise<PitrDrillReport> {
  const { ctx } = deps;
  const startedAt = ctx.now();
  const staleRemoved = await removeStaleDrills(ctx.env);
  for (const d of staleRemoved) {
    ctx.logger.warn({ dir: d }, 'removed the leftovers of an earlier drill that was killed');
    ctx.stderr.write(`lifeboat: removed the leftovers of an earlier drill that was killed: ${d}\n`);
  }
  const { cfg, paths } = await readPitrConfig(opts.configDir, opts.source);
  const user = await ownerOf(paths.dir, 'the PITR configuration folder');
  const pg = { paths, source: cfg.source, user, env: ctx.env, cipherPass: opts.cipherPass, signal: ctx.signal, progress: ctx.stderr };
  const backup: PgbackrestBackup = backupForTarget(await stanzaInfo(pg), opts.target, '--to-time');

  // What the source says: heartbeats around the target, and how far behind the archive is.
  const src = await connectPg(opts.conn);
  let archiver: ArchiverStatus;
  let around: HeartbeatsAround | null = null; // null: the source has no heartbeat table
  try {
    archiver = await archiverStatus(src);
    if (await hasHeartbeats(src)) around = await heartbeatsAround(src, opts.target);
  } finally {
    await src.end().catch(() => undefined);
  }

  const checks: PitrDrillCheck[] = [];
  let restoreSeconds: number | null = null;
  let recoverySeconds: number | null = null;
  let firstQuerySeconds: number | null = null;
  let recovery: RecoveryOutcome | null = null;
  let ws: DrillWorkspace | undefined;
  let server: DrillServer | undefined;
  // One line per stage on a terminal; off one, the final event says it all.
  const stage = (text: string): void => void (ctx.stderr.isTTY && ctx.stderr.write(`${text}\n`));
  try {
    stage(`restoring backup ${backup.label} of ${cfg.source} for ${opts.target.toISOString()}...`);
    ws = await openDrillWorkspace(ctx.env, user);
    const workspace = ws;
    const t0 = Date.now();
    await runPgbackrest(
      'restore',
      [`--pg1-path=${ws.dataDir}`, '--type=time', `--target=${pgTime(opts.target)}`, '--target-action=promote', '--archive-mode=off'],
      { ...pg, onSpawn: (pid) => workspace.track(pid, 'TERM') },
    );
    restoreSeconds = seconds(Date.now() - t0);
    checks.push({ name: 'restore', ok: true, detail: `backup ${backup.label} restored in ${restoreSeconds}s` });

    stage('starting a throwaway server and replaying WAL up to the target...');
    const t1 = Date.now();
    server = await startDrillServer({
      binDir: `/usr/lib/postgresql/${cfg.pgMajor}/bin`,
      dataDir: ws.dataDir,
      dir: ws.dir,
      port: await freePort(),
      owner: user,
      user: cfg.pgUser,
      onSpawn: (pid) => workspace.track(pid, 'QUIT'),
    });
    await server.promoted(ctx.signal);
    recoverySeconds = seconds(Date.now() - t1);

    const t2 = Date.now();
    const c = await server.connect(cfg.database, cfg.pgUser);
    try {
      await c.query('SELECT 1');
      firstQuerySeconds = seconds(Date.now() - t2);
      recovery = parseRecoveryLog(await fs.readFile(server.logFile, 'utf8'));
      const lastOk = recovery.lastTransactionAt === null || new Date(recovery.lastTransactionAt) <= opts.target;
      checks.push({
        name: 'recovery target',
        ok: recovery.reachedTarget && lastOk,
        detail: recovery.reachedTarget
          ? `stopped before the transaction of ${recovery.stoppedAt}; last replayed ${recovery.lastTransactionAt ?? 'none'}`
          : `recovery did not stop at the target (${recovery.failure ?? 'no "recovery stopping" line in the server log'})`,
      });
      checks.push(...(await checkRestoredHeartbeats(c, around)));
    } finally {
      await c.end().catch(() => undefined);
    }
  } catch (e) {
    let why = describeError(e);
    if (server && !(isLifeboatError(e) && e.code === 'drill_recovery_failed')) why += `; server log: ${await logTail(server.logFile)}`;
    if (/recovery ended before configured recovery target was reached/.test(why)) {
      why = `the archive ends before the target: WAL written after ${archiver.lastArchivedAt?.toISOString() ?? 'the backup'} (segment ${archiver.lastArchivedWal ?? '-'}) is not in the repository yet (${why})`;
    }
    if (restoreSeconds === null) checks.push({ name: 'restore', ok: false, detail: why });
    else checks.push({ name: 'recovery target', ok: false, detail: why });
  } finally {
    await server?.stop().catch(() => undefined);
    let cleaned = true;
    if (ws) {
      await ws.remove().catch(() => undefined);
      cleaned = !(await fs.stat(ws.dir).catch(() => null));
    }
    checks.push({ name: 'cleaned up', ok: cleaned, detail: ws ? `${path.basename(ws.dir)} ${cleaned ? 'removed' : 'NOT removed'}` : 'nothing was created' });
  }

  // An interrupted drill (SIGTERM) has cleaned up above and ends as a failure, without a report of half a drill.
  ctx.signal.throwIfAborted();
  const problem = archiverProblem(archiver);
  checks.push({ name: 'archiving', ok: problem === null, detail: problem ?? `last segment ${archiver.lastArchivedWal} archived ${Math.round(archiver.lagSeconds ?? 0)}s ago` });
  const rpo = objective(archiver.lagSeconds === null ? null : Math.round(archiver.lagSeconds * 1000) / 1000, opts.rpoTargetSeconds);
  const rtoSeconds = restoreSeconds !== null && recoverySeconds !== null && firstQuerySeconds !== null ? Math.round((restoreSeconds + recoverySeconds + firstQuerySeconds) * 1000) / 1000 : null;
  const rto = objective(rtoSeconds, opts.rtoTargetSeconds);
  checks.push({ name: 'rpo', ok: rpo.ok, detail: rpo.targetSeconds === null ? 'no target' : `target ${rpo.targetSeconds}s` });
  checks.push({ name: 'rto', ok: rto.ok, detail: rto.targetSeconds === null ? 'no target' : `target ${rto.targetSeconds}s` });

  const reportKey = pitrDrillReportKey(cfg.source, startedAt);
  const report: PitrDrillReport = {
    formatVersion: PITR_DRILL_REPORT_FORMAT_VERSION,
    engine: 'postgres',
    kind: 'pitr',
    source: cfg.source,
    startedAt: startedAt.toISOString(),
    finishedAt: ctx.now().toISOString(),
    target: opts.target.toISOString(),
    backup: { label: backup.label, type: backup.type, stoppedAt: backup.stoppedAt.toISOString() },
    recovery: recovery ? { reachedTarget: recovery.reachedTarget, stoppedAt: recovery.stoppedAt, lastTransactionAt: recovery.lastTransactionAt } : null,
    heartbeats: { before: iso(around?.before ?? null), after: iso(around?.after ?? null) },
    rpo,
    rto: { ...rto, restoreSeconds, recoverySeconds, firstQuerySeconds },
    staleRemoved,
    checks,
    passed: checks.every((c) => c.ok),
    reportKey,
  };
  await opts.storage.putBytes(reportKey, JSON.stringify(report, null, 2) + '\n', { contentType: 'application/json' });
  return report;
}

/** `pitr drill --rds ID | --cloudsql PROJECT:INSTANCE`: the same drill on a managed database (runner/pitr/managed-drill.ts). */
export { runManagedPitrDrill, type ManagedDrillOptions } from '../pitr/managed-drill';
