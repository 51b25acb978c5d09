/**
 * The dump of a backup while it runs: pg_dump (and, with --jobs, the pieced tables' COPY sessions: pieced-dump.ts)
 * into the framed compressor, the exact row counts taken beside it in the same snapshot, and the verdict on all of
 * them. runner/commands/backup.ts plans the backup, uploads what this produces and writes the manifest.
 *
 * The verdict names what failed first: zstd's failure stops pg_dump, pg_dump's own failure stops the copies, a
 * failure of the pieces stops both, and failed row counts stop everything; a stop from outside (the upload failed,
 * a signal) is never a success.
 */
import type { Client } from 'pg';
import type { RunContext } from '../context';
import { runtimeError, type LifeboatError } from '../errors';
import { pgToolEnv, type ConnInfo } from '../pg/connection';
import type { Snapshot } from '../pg/snapshot';
import type { PiecedTable } from '../pg/table-pieces';
import { countRows, quoteTable, tableSizes, type TableRef } from '../pg/tables';
import type { ToolCandidate } from '../pg/tools';
import type { TableRowCount } from '../contract/manifest';
import { createProgress, type Progress } from '../pipeline/progress';
import { childSucceeded, defaultSpawner, describeChildFailure, watchChild, type Spawner } from '../pipeline/spawn';
import { createFramedCompressor, type FramedCompressor } from './framed-compress';
import type { PiecedDump } from './pieced-dump';

/** What pg_dump is asked for; a full dump restricted by `tables` is recorded as kind `tables`. */
export type DumpKind = 'full' | 'schema' | 'data';

/** What the dump needs of the backup's plan. */
export interface DumpPlan {
  snap: Snapshot;
  pgDump: ToolCandidate;
  /** The tables `--table` selected (empty: the whole database). */
  selected: TableRef[];
  /** The tables whose rows are counted. */
  countedTables: TableRef[];
  /** --jobs: the tables the COPY sessions dump instead of pg_dump. */
  pieced: readonly PiecedTable[];
  /** With pieces: pg_dump's --encoding, the server's (the pieces' own). */
  dumpEncoding: string | null;
}

export interface DumpDeps {
  ctx: Pick<RunContext, 'env' | 'logger' | 'signal' | 'stderr'>;
  spawner?: Spawner;
}

function dumpArgs(snapshot: string, kind: DumpKind, tables: TableRef[], pieced: readonly TableRef[], encoding: string | null): string[] {
  const args = ['--format=custom', '--compress=0', '--no-password', `--snapshot=${snapshot}`];
  if (encoding) args.push(`--encoding=${encoding}`);
  if (kind === 'schema') args.push('--schema-only');
  if (kind === 'data') args.push('--data-only');
  // Quoted patterns match exactly: wildcard characters inside double quotes are literal.
  for (const t of tables) args.push(`--table=${quoteTable(t)}`);
  for (const t of pieced) args.push(`--exclude-table-data=${quoteTable(t)}`);
  return args;
}

/** pg_dump into the framed compressor, with the row counts taken beside it in the same snapshot. */
export interface RunningDump {
  comp: FramedCompressor;
  /** The uncompressed bytes pg_dump wrote. */
  rawBytes: () => number;
  progress: Progress;
  /** The verdict on everything but the upload: the row counts when pg_dump, zstd and the counts all succeeded. */
  verdict: Promise<TableRowCount[]>;
}

export function startDump(
  client: Client,
  plan: DumpPlan,
  conn: ConnInfo,
  kind: DumpKind,
  zstd: { path: string; args: readonly string[]; frameMin: number },
  pieced: PiecedDump | null,
  abort: AbortController,
  deps: DumpDeps,
): RunningDump {
  const { ctx } = deps;
  const spawner = deps.spawner ?? defaultSpawner;
  const env = pgToolEnv(conn, ctx.env);
  const dump = watchChild('pg_dump', spawner(plan.pgDump.path, dumpArgs(plan.snap.id, kind, plan.selected, plan.pieced, plan.dumpEncoding), { env, stdio: ['ignore', 'pipe', 'pipe'] }), (line) => {
    if (!/: error:/.test(line)) ctx.logger.warn({ tool: 'pg_dump' }, line);
  });
  // zstd in frames cut where the archive's data blocks start, with their index (runner/payload/framed-compress.ts);
  // with --jobs, the pieced tables' frames follow pg_dump's (runner/payload/pieced-dump.ts).
  const comp = createFramedCompressor(spawner, zstd.path, zstd.args, ctx.env, zstd.frameMin, pieced?.tail);
  abort.signal.addEventListener(
    'abort',
    () => {
      dump.kill();
      comp.kill();
      pieced?.stop();
    },
    { once: true },
  );
  const piecesFailed = new Error('the pieced tables failed');
  // With pieces, a failed pg_dump must stop the copies now, not once every pieced table has been read.
  const dumpFailed = new Error('pg_dump failed');
  if (pieced) {
    void dump.done.then((r) => {
      if (!childSucceeded(r)) abort.abort(dumpFailed);
    });
  }
  void pieced?.settled.then(() => {
    if (pieced.failure()) abort.abort(piecesFailed);
  });
  // A failed splice unpipes itself: the compressor's input would never end, so it is ended here (after the kill).
  pieced?.splice.once('error', () => {
    abort.abort(piecesFailed);
    comp.input.end();
  });
  // A failed zstd stops pg_dump; its verdict below then names zstd, not the pg_dump it killed.
  const compressionFailed = new Error('compression failed');
  void comp.done.then((r) => {
    if (!childSucceeded(r)) abort.abort(compressionFailed);
  });

  let rawBytes = 0;
  const progress = createProgress(ctx.stderr, 'backup', plan.snap.databaseSize);
  const dumpOut = dump.child.stdout!;
  dumpOut.on('data', (chunk: Buffer) => {
    rawBytes += chunk.length;
    progress.update(rawBytes + (pieced?.rawBytes() ?? 0));
  });
  if (pieced) dumpOut.pipe(pieced.splice).pipe(comp.input);
  else dumpOut.pipe(comp.input);

  // Row counts in the dump's snapshot, while it runs.
  const counts: Promise<TableRowCount[]> =
    kind === 'schema'
      ? Promise.resolve(plan.countedTables.map((t) => ({ schema: t.schema, name: t.name, rows: null })))
      : countRows(client, plan.countedTables).then(async (rows) => {
          // Only a hint for restores: a backup does not fail for want of it.
          const sizes = await tableSizes(client, plan.countedTables).catch(() => null);
          return sizes ? rows.map((r, i) => ({ ...r, bytes: sizes[i] })) : rows;
        });
  counts.catch(() => abort.abort(new Error('row counts failed')));

  const verdict = (async (): Promise<TableRowCount[]> => {
    const [d, c] = await Promise.all([dump.done, comp.done, pieced?.settled]);
    if (ctx.signal.aborted) throw backupInterrupted(ctx.signal);
    // What stopped the children first is the cause: zstd's failure (it stops pg_dump), pg_dump's own (zstd then
    // ends normally), the pieced tables' (their COPY, or the TOC splice), or the row counts' (below: both
    // children were stopped for it).
    const stoppedFor = abort.signal.aborted ? abort.signal.reason : null;
    // A failure of the pieces' own (not a stop from outside) is the cause, whoever noticed first (their failed
    // tail also fails the compressor); but a pg_dump that failed before its TOC leaves the splice without one.
    const piecesFailure = pieced?.failure();
    if (piecesFailure && !(childSucceeded(d) === false && (piecesFailure as { code?: string }).code === 'archive_splice_failed')) throw piecesFailure;
    if (!childSucceeded(c) && (stoppedFor === null || stoppedFor === compressionFailed)) throw runtimeError('compress_failed', describeChildFailure(c));
    if (!childSucceeded(d) && (stoppedFor === null || stoppedFor === dumpFailed || stoppedFor === piecesFailed)) throw runtimeError('dump_failed', describeChildFailure(d));
    let tables: TableRowCount[];
    try {
      tables = await counts;
    } catch (e) {
      throw runtimeError('row_count_failed', `counting rows in the dump's snapshot failed: ${(e as Error).message}`);
    }
    // Stopped for another reason (the upload failed: reported as such below): never a success.
    if (!childSucceeded(c) || !childSucceeded(d)) throw runtimeError('dump_failed', `the dump was stopped (${(stoppedFor as Error | null)?.message ?? 'stopped'})`);
    return tables;
  })();
  verdict.catch(() => abort.abort(new Error('backup failed')));
  if (pieced) {
    // The pieces go on after pg_dump's output has ended: their bytes keep the progress moving.
    const tick = setInterval(() => progress.update(rawBytes + pieced.rawBytes()), 500);
    tick.unref();
    void verdict.then(
      () => clearInterval(tick),
      () => clearInterval(tick),
    );
  }
  return { comp, rawBytes: () => comp.rawBytes(), progress, verdict };
}

/** A backup stopped by a signal: it published nothing. */
export function backupInterrupted(signal: AbortSignal): LifeboatError {
  const why = signal.reason instanceof Error ? signal.reason.message : 'interrupted';
  return runtimeError('interrupted', `backup ${why}: nothing was published`);
}
