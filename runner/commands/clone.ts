/**
 * `lifeboat clone --from URL --to URL`: copies a database into another one directly, without storage, proven
 * by the same row-count check as a restore.
 *
 *   source: BEGIN REPEATABLE READ; pg_export_snapshot() ─┬─ pg_dump --snapshot ─▶ pg_restore (target)
 *                                                        └─ exact count(*) per table in that snapshot
 *   then: count the target's tables and compare
 *
 * --jobs 1 (default) streams: pg_dump -Fc | pg_restore reading stdin, nothing on disk. pg_restore cannot run
 * parallel jobs on a stream (it needs to seek), so --jobs N > 1 dumps in directory format with N workers into
 * a temp folder (LIFEBOAT_TMPDIR) in the same snapshot, then pg_restore -j N from there, and removes it.
 *
 * Nothing partial is left where it can be avoided: a failed clone drops the database it created (--create),
 * or removes what it added to the empty target it was given. With --clean the target's old objects are gone
 * once pg_restore started, which the error then says. A clone whose row counts differ is kept for inspection
 * and reported (exit 1), as restore does.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Client } from 'pg';
import type { RunContext } from '../context';
import type { TableRowCount } from '../contract/manifest';
import { runtimeError, usageError } from '../errors';
import { connectPg, describeConn, pgToolEnv, withDatabase, type ConnInfo } from '../pg/connection';
import { createDatabase, databaseExists, dropDatabase } from '../pg/databases';
import { dropAddedObjects, scratchState, type ScratchState } from '../pg/scratch';
import { compareRowCounts, countRows, listBackupTables, userTableCount, type RowCountComparison, type TableRef } from '../pg/tables';
import { findTool, serverMajor, type ToolCandidate } from '../pg/tools';
import { createProgress } from '../pipeline/progress';
import { makeTempDir } from '../pipeline/temp-dir';
import { childSucceeded, defaultSpawner, describeChildFailure, watchChild, type ChildResult, type Spawner, type WatchedChild } from '../pipeline/spawn';
import { openSnapshot, type Snapshot } from '../pg/snapshot';
import { validateRestoreFlags } from '../restore/plan';

export interface CloneOptions {
  from: ConnInfo;
  to: ConnInfo;
  /** Create the target database (it must not exist). */
  create?: boolean;
  /** Drop and recreate the copied objects in a non-empty target; needs `yes`. */
  clean?: boolean;
  yes?: boolean;
  /** 1 (default): stream; N > 1: directory format with N workers through a temp folder. */
  jobs?: number;
  noOwner?: boolean;
  noPrivileges?: boolean;
}

export interface CloneDeps {
  ctx: Pick<RunContext, 'env' | 'logger' | 'now' | 'signal' | 'stderr'>;
  spawner?: Spawner;
}

export interface CloneResult {
  comparison: RowCountComparison[];
  ok: boolean;
  /** Bytes pg_dump produced (streaming mode) or wrote to the temp folder (directory mode). */
  dumpBytes: number;
  snapshotAt: string;
  serverVersion: string;
  mode: 'stream' | 'directory';
}

/** What the target looked like before, so a failure can put it back. */
type TargetBefore = { kind: 'created' } | { kind: 'empty'; state: ScratchState } | { kind: 'cleaned' };

function sameDatabase(a: ConnInfo, b: ConnInfo): boolean {
  return a.host === b.host && a.port === b.port && a.database === b.database;
}

async function withClient<T>(conn: ConnInfo, flag: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = await connectPg(conn, flag);
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * True when `to` names the database `source` is connected to, however the URLs spell the server (localhost,
 * 127.0.0.1, a DNS alias): the target server's pg_stat_activity shows the source session (pid and start time).
 * A clone onto itself with --clean would drop what it is reading.
 */
async function isSourceDatabase(source: Client, to: ConnInfo): Promise<boolean> {
  const me = await source.query<{ pid: number; started: string }>(
    `SELECT pid, backend_start::text AS started FROM pg_stat_activity WHERE pid = pg_backend_pid()`,
  );
  const row = me.rows[0];
  if (!row) return false;
  return withClient(withDatabase(to, 'postgres'), '--to', async (c) => {
    const r = await c.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND backend_start::text = $2 AND datname = $3`, [row.pid, row.started, to.database]);
    return (r.rowCount ?? 0) > 0;
  });
}

/** Refuses a target that would lose data; reports what it looked like. Touches nothing. */
async function inspectTarget(opts: CloneOptions): Promise<TargetBefore> {
  const to = opts.to;
  const exists = await databaseExists(to, '--to');
  if (opts.create) {
    if (exists) {
      throw usageError('target_exists', `database "${to.database}" already exists on ${to.host}:${to.port}; nothing was changed`, 'Drop --create to clone into it, or choose a new name');
    }
    return { kind: 'created' };
  }
  if (!exists) throw usageError('database_missing', `target database "${to.database}" does not exist on ${to.host}:${to.port}`, 'Add --create to create it');
  if (opts.clean) return { kind: 'cleaned' };
  return withClient(to, '--to', async (c) => {
    const n = await userTableCount(c);
    if (n > 0) {
      throw usageError(
        'target_not_empty',
        `target database "${to.database}" already has ${n} user table${n === 1 ? '' : 's'}; nothing was changed`,
        'Clone into a new database with --create, or pass --clean --yes to drop and replace the copied objects',
      );
    }
    return { kind: 'empty', state: await scratchState(c) };
  });
}

/** A conninfo for pg_restore -d with only the database name; the rest comes from PG* variables. */
function dbnameConninfo(database: string): string {
  return `dbname='${database.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function restoreFlags(opts: CloneOptions, jobs: number): string[] {
  const args = ['--exit-on-error', '--no-password', `--dbname=${dbnameConninfo(opts.to.database)}`];
  if (jobs > 1) args.push(`--jobs=${jobs}`);
  if (opts.clean) args.push('--clean', '--if-exists');
  if (opts.noOwner) args.push('--no-owner');
  if (opts.noPrivileges) args.push('--no-privileges');
  return args;
}

/** Waits for children; kills the rest when one fails or the run is aborted. */
async function awaitAll(children: WatchedChild[], signal: AbortSignal): Promise<ChildResult[]> {
  const killAll = (): void => children.forEach((c) => c.kill());
  signal.addEventListener('abort', killAll, { once: true });
  try {
    return await Promise.all(
      children.map((c) =>
        c.done.then((r) => {
          if (!childSucceeded(r)) killAll();
          return r;
        }),
      ),
    );
  } finally {
    signal.removeEventListener('abort', killAll);
  }
}

function failureOf(results: ChildResult[]): string | null {
  const bad = results.filter((r) => !childSucceeded(r));
  return bad.length ? bad.map(describeChildFailure).join('; ') : null;
}

interface Tools {
  pgDump: ToolCandidate;
  pgRestore: ToolCandidate;
}

async function copyStreaming(opts: CloneOptions, snap: Snapshot, tools: Tools, deps: CloneDeps): Promise<number> {
  const { ctx } = deps;
  const spawner = deps.spawner ?? defaultSpawner;
  const warn = (tool: string) => (line: string) => {
    if (!/: error:/.test(line)) ctx.logger.warn({ tool }, line);
  };
  const dump = watchChild(
    'pg_dump',
    spawner(tools.pgDump.path, ['--format=custom', '--compress=0', '--no-password', `--snapshot=${snap.id}`], {
      env: pgToolEnv(opts.from, ctx.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
    warn('pg_dump'),
  );
  const restore = watchChild(
    'pg_restore',
    spawner(tools.pgRestore.path, restoreFlags(opts, 1), { env: pgToolEnv(opts.to, ctx.env), stdio: ['pipe', 'ignore', 'pipe'] }),
    warn('pg_restore'),
  );
  let bytes = 0;
  const progress = createProgress(ctx.stderr, 'clone', snap.databaseSize);
  restore.child.stdin!.on('error', () => undefined); // EPIPE when pg_restore dies: its exit status reports it.
  dump.child.stdout!.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    progress.update(bytes);
  });
  dump.child.stdout!.pipe(restore.child.stdin!);
  const results = await awaitAll([dump, restore], ctx.signal);
  progress.done();
  if (ctx.signal.aborted) throw runtimeError('interrupted', 'clone interrupted');
  const failed = failureOf(results);
  if (failed) throw runtimeError('clone_failed', `cloning ${describeConn(opts.from)} into ${describeConn(opts.to)} failed: ${failed}`);
  return bytes;
}

async function folderBytes(dir: string): Promise<number> {
  let n = 0;
  for (const f of await fs.readdir(dir)) n += (await fs.stat(path.join(dir, f))).size;
  return n;
}

async function copyViaDirectory(opts: CloneOptions, snap: Snapshot, tools: Tools, jobs: number, deps: CloneDeps): Promise<number> {
  const { ctx } = deps;
  const spawner = deps.spawner ?? defaultSpawner;
  const { dir: tmp, cleanup } = await makeTempDir(ctx.env, 'lifeboat-clone-', 'the dump');
  const dir = path.join(tmp, 'dump');
  try {
    const dumpArgs = ['--format=directory', `--jobs=${jobs}`, '--compress=1', '--no-password', `--snapshot=${snap.id}`, `--file=${dir}`];
    const dump = watchChild('pg_dump', spawner(tools.pgDump.path, dumpArgs, { env: pgToolEnv(opts.from, ctx.env), stdio: ['ignore', 'ignore', 'pipe'] }));
    const dumped = await awaitAll([dump], ctx.signal);
    if (ctx.signal.aborted) throw runtimeError('interrupted', 'clone interrupted');
    const dumpFailed = failureOf(dumped);
    if (dumpFailed) throw runtimeError('dump_failed', `dumping ${describeConn(opts.from)} failed: ${dumpFailed}`);
    const bytes = await folderBytes(dir);
    const restore = watchChild(
      'pg_restore',
      spawner(tools.pgRestore.path, [...restoreFlags(opts, jobs), dir], { env: pgToolEnv(opts.to, ctx.env), stdio: ['ignore', 'ignore', 'pipe'] }),
    );
    const restored = await awaitAll([restore], ctx.signal);
    if (ctx.signal.aborted) throw runtimeError('interrupted', 'clone interrupted');
    const restoreFailed = failureOf(restored);
    if (restoreFailed) throw runtimeError('restore_failed', `restoring into ${describeConn(opts.to)} failed: ${restoreFailed}`);
    return bytes;
  } finally {
    await cleanup();
  }
}

/** Row counts in the target; a table that is not there counts as null (reported as missing). */
async function countTarget(to: ConnInfo, tables: readonly TableRef[]): Promise<TableRowCount[]> {
  return withClient(to, '--to', async (c) => {
    const out: TableRowCount[] = [];
    for (const t of tables) {
      try {
        out.push(...(await countRows(c, [t])));
      } catch (e) {
        if (!['42P01', '3F000'].includes((e as { code?: string }).code ?? '')) throw e;
        out.push({ schema: t.schema, name: t.name, rows: null });
      }
    }
    return out;
  });
}

/** Puts the target back as it was found, after a failure. Returns what was done, for the error message. */
async function undo(opts: CloneOptions, before: TargetBefore): Promise<string> {
  try {
    if (before.kind === 'created') {
      await dropDatabase(opts.to, '--to');
      return `the database "${opts.to.database}" it created was dropped`;
    }
    if (before.kind === 'empty') {
      await withClient(opts.to, '--to', (c) => dropAddedObjects(c, before.state));
      return `what it had added to "${opts.to.database}" was removed`;
    }
    return `"${opts.to.database}" was cleaned (--clean) and is now incomplete`;
  } catch (e) {
    return `cleaning up "${opts.to.database}" failed too (${(e as Error).message})`;
  }
}

export async function cloneDatabase(opts: CloneOptions, deps: CloneDeps): Promise<CloneResult> {
  const { ctx } = deps;
  const jobs = opts.jobs ?? 1;
  validateRestoreFlags({ jobs, clean: opts.clean, yes: opts.yes, create: opts.create });
  if (sameDatabase(opts.from, opts.to)) {
    throw usageError('clone_onto_itself', `--from and --to name the same database (${describeConn(opts.from)})`);
  }
  const before = await inspectTarget(opts);

  const source = await connectPg(opts.from, '--from');
  try {
    if (await isSourceDatabase(source, opts.to)) {
      throw usageError('clone_onto_itself', `--from and --to name the same database ("${opts.to.database}" on the server of ${describeConn(opts.from)}); nothing was changed`);
    }
    const snap = await openSnapshot(source);
    const pgDump = await findTool('pg_dump', serverMajor(snap.serverVersionNum), `the source runs PostgreSQL ${snap.serverVersion}`, ctx.env);
    const pgRestore = await findTool('pg_restore', pgDump.major, `the dump is written by pg_dump ${pgDump.version}`, ctx.env);
    const tables = await listBackupTables(source);
    ctx.logger.info({ tables: tables.length, jobs }, `clone of ${describeConn(opts.from)} into ${describeConn(opts.to)} started`);

    if (before.kind === 'created') await createDatabase(opts.to, '--to');
    let dumpBytes: number;
    let expected: TableRowCount[];
    try {
      // Counted in the dump's snapshot while pg_dump runs, as backup does.
      const counting = countRows(source, tables);
      counting.catch(() => undefined);
      const copying = jobs > 1 ? copyViaDirectory(opts, snap, { pgDump, pgRestore }, jobs, deps) : copyStreaming(opts, snap, { pgDump, pgRestore }, deps);
      const [copied, counted] = await Promise.allSettled([copying, counting]);
      if (copied.status === 'rejected') throw copied.reason;
      if (counted.status === 'rejected') throw runtimeError('row_count_failed', `counting rows in the dump's snapshot failed: ${(counted.reason as Error).message}`);
      dumpBytes = copied.value;
      expected = counted.value;
    } catch (e) {
      const done = await undo(opts, before);
      if (e instanceof Error) e.message = `${e.message}; ${done}`;
      throw e;
    }
    await source.query('COMMIT');
    const comparison = compareRowCounts(expected, await countTarget(opts.to, tables));
    return {
      comparison,
      ok: comparison.every((c) => c.ok),
      dumpBytes,
      snapshotAt: snap.at.toISOString(),
      serverVersion: snap.serverVersion,
      mode: jobs > 1 ? 'directory' : 'stream',
    };
  } finally {
    await source.end().catch(() => undefined);
  }
}
