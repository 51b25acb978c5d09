/**
 * `lifeboat pitr restore`: a source's cluster as it was at a moment, into a new data directory. Never into a
 * directory that holds anything without --force (and then pgBackRest's --delta, which rewrites what differs).
 * Then recovery runs to the target on a private socket (the drill's throwaway server, which dies with the
 * command), so the command can say exactly what the cluster holds (the last transaction replayed) and the
 * cluster starts at once afterwards. Archiving is off in it, so a copy started to look at yesterday's rows
 * cannot push WAL into the source's repository.
 */
import { promises as fs, realpathSync } from 'node:fs';
import path from 'node:path';
import type { RunContext } from '../context';
import { describeError, isLifeboatError, runtimeError, usageError } from '../errors';
import { readPitrConfig, type PitrConfig } from '../pitr/config';
import {
  checkTargetInWindow,
  MADE_BY_LABEL,
  MADE_BY_VALUE,
  RESTORE_OF_LABEL,
  RESTORE_TO_LABEL,
  statusReporter,
  type ManagedInstance,
  type ManagedPitrProvider,
  type ManagedSource,
} from '../pitr/managed';
import { ownerOf } from '../pitr/os-user';
import { runPgbackrest, stanzaInfo, type PgbackrestBackup } from '../pitr/pgbackrest';
import { logTail, parseRecoveryLog, startDrillServer, freePort, type DrillServer, type RecoveryOutcome } from '../pitr/server';
import { pgTime } from '../pitr/target-time';
import { openDrillWorkspace, RESTORE_DIR_PREFIX, type DrillWorkspace } from '../pitr/workspace';
import { backupForTarget } from '../pitr/window';

export interface PitrRestoreOptions {
  configDir: string;
  source: string;
  target: Date;
  pgdata: string;
  force: boolean;
  /** The repository's passphrase when this host has no copy of the configuration's secret part. */
  cipherPass?: string;
}

export interface PitrRestoreResult {
  config: PitrConfig;
  pgdata: string;
  backup: PgbackrestBackup;
  target: Date;
  /** What recovery says: where it stopped and the last transaction replayed. */
  recovery: RecoveryOutcome;
  /** How to start it, as the data directory's owner. */
  startCommand: string;
}

async function isEmptyDir(dir: string): Promise<boolean | null> {
  try {
    return (await fs.readdir(dir)).length === 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') throw usageError('pgdata_invalid', `--pgdata expected a folder, got the file ${dir}`);
    throw e;
  }
}

export async function runPitrRestore(opts: PitrRestoreOptions, deps: { ctx: RunContext }): Promise<PitrRestoreResult> {
  const { ctx } = deps;
  const { cfg, paths } = await readPitrConfig(opts.configDir, opts.source);
  const user = await ownerOf(paths.dir, 'the PITR configuration folder');
  const pgdata = path.resolve(opts.pgdata);
  const empty = await isEmptyDir(pgdata);
  if (empty === false && !opts.force) {
    throw usageError('pgdata_not_empty', `--pgdata ${pgdata} is not empty`, 'Give a new or empty folder, or --force to overwrite what is there (a server must not be running in it)');
  }
  if (empty !== null && realpathSync(pgdata) === cfg.pgdata && !opts.force) {
    throw usageError('pgdata_is_source', `--pgdata ${pgdata} is the source's own data directory`, 'Stop the server and give --force to rewind it in place');
  }
  const pg = { paths, source: cfg.source, user, env: ctx.env, cipherPass: opts.cipherPass, signal: ctx.signal, progress: ctx.stderr };
  const info = await stanzaInfo(pg);
  const backup = backupForTarget(info, opts.target, '--to-time');

  const created = empty === null;
  let recovery: RecoveryOutcome;
  if (created) {
    await fs.mkdir(pgdata, { recursive: true, mode: 0o700 });
    await user.chown(pgdata);
  }
  try {
    await runPgbackrest(
      'restore',
      [`--pg1-path=${pgdata}`, '--type=time', `--target=${pgTime(opts.target)}`, '--target-action=promote', '--archive-mode=off', ...(empty === false ? ['--delta'] : [])],
      pg,
    );
    recovery = await recover(cfg, pgdata, user, ctx);
  } catch (e) {
    // Undo: a folder this run created goes again; one that was given is left for inspection.
    if (created) await fs.rm(pgdata, { recursive: true, force: true });
    throw e;
  }
  const startCommand = `/usr/lib/postgresql/${cfg.pgMajor}/bin/pg_ctl -D ${pgdata} -o "-c port=<free port>" -l ${pgdata}/restore.log start`;
  return { config: cfg, pgdata, backup, target: opts.target, recovery, startCommand };
}

/** Replays WAL to the target with a server on a private socket, then shuts it down cleanly. */
async function recover(cfg: PitrConfig, pgdata: string, user: Awaited<ReturnType<typeof ownerOf>>, ctx: RunContext): Promise<RecoveryOutcome> {
  let ws: DrillWorkspace | undefined;
  let server: DrillServer | undefined;
  try {
    ws = await openDrillWorkspace(ctx.env, user, RESTORE_DIR_PREFIX);
    const workspace = ws;
    server = await startDrillServer({
      binDir: `/usr/lib/postgresql/${cfg.pgMajor}/bin`,
      dataDir: pgdata,
      dir: ws.dir,
      port: await freePort(),
      owner: user,
      user: cfg.pgUser,
      onSpawn: (pid) => workspace.track(pid, 'QUIT'),
    });
    ctx.stderr.write(ctx.stderr.isTTY ? 'replaying WAL up to the target...\n' : '');
    await server.promoted(ctx.signal);
    const outcome = parseRecoveryLog(await fs.readFile(server.logFile, 'utf8'));
    await server.stop(true);
    if (!outcome.reachedTarget) throw runtimeError('pitr_recovery_failed', `recovery did not stop at the target: ${outcome.failure ?? (await logTail(server.logFile))}`);
    return outcome;
  } catch (e) {
    if (e instanceof Error && 'code' in e) throw e;
    throw runtimeError('pitr_recovery_failed', `recovery of the restored cluster failed: ${describeError(e)}`);
  } finally {
    await server?.stop().catch(() => undefined);
    await ws?.remove().catch(() => undefined);
  }
}

export interface ManagedPitrRestoreOptions {
  provider: ManagedPitrProvider;
  target: Date;
  /** The new instance's name; an existing one is refused. */
  into: string;
  timeoutMs: number;
  pollMs: number;
}

export interface ManagedPitrRestoreResult {
  source: ManagedSource;
  instance: ManagedInstance;
  target: Date;
  seconds: number;
}

/**
 * `pitr restore --rds ID | --cloudsql PROJECT:INSTANCE --into NAME`: a new instance as the source was at the
 * target, through the cloud's own point-in-time recovery. The source is only read. A copy that the cloud
 * reports as failed is deleted again; one still being made when --timeout runs out (or the run is stopped) is
 * left to finish, and the message names it: deleting a restore that may be minutes from ready, in the middle
 * of an incident, would be the wrong undo.
 */
export async function runManagedPitrRestore(opts: ManagedPitrRestoreOptions, deps: { ctx: RunContext }): Promise<ManagedPitrRestoreResult> {
  const { ctx } = deps;
  const { provider } = opts;
  const source = await provider.describeSource(ctx.now());
  checkTargetInWindow(opts.target, source.window, '--to-time', source.label);
  if (opts.into === provider.sourceName || (await provider.find(opts.into))) {
    throw usageError('into_exists', `--into ${opts.into} already exists${opts.into === provider.sourceName ? ' (it is the source)' : ''}`, 'Give a new instance name: a restore never replaces an instance');
  }
  const t0 = Date.now();
  await provider.startClone(opts.into, opts.target, source, {
    [MADE_BY_LABEL]: MADE_BY_VALUE,
    [RESTORE_OF_LABEL]: provider.sourceName,
    [RESTORE_TO_LABEL]: opts.target.toISOString(),
  });
  if (ctx.stderr.isTTY) ctx.stderr.write(`restoring ${source.label} as it was at ${opts.target.toISOString()} into ${opts.into}...\n`);
  try {
    const instance = await provider.waitReady(opts.into, { signal: ctx.signal, deadline: t0 + opts.timeoutMs, pollMs: opts.pollMs, onStatus: statusReporter(ctx, opts.into) });
    return { source, instance, target: opts.target, seconds: Math.round(Date.now() - t0) / 1000 };
  } catch (e) {
    if (isLifeboatError(e) && e.code === 'managed_clone_failed') {
      await provider.deleteInstance(opts.into).catch(() => undefined);
      throw runtimeError('managed_restore_failed', `${e.message}; the failed instance ${opts.into} was deleted`);
    }
    throw runtimeError('managed_restore_unfinished', `${describeError(e)}; ${opts.into} is left to finish in the cloud (delete it there if it is not wanted)`);
  }
}
