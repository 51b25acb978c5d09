/**
 * The parts of `backup --jobs N` beside pg_dump, put together for the backup command: the COPY sessions of the
 * pieced tables (table-copy.ts), the TOC splice between pg_dump and the compressor (toc-splice.ts), and the
 * pieces' frames as the compressor's tail, in a temp folder of their own.
 *
 *   pg_dump --exclude-table-data=<pieced> ─▶ splice (TOC + the pieces' entries) ─▶ framed compressor ─▶ ...
 *   N COPY sessions in the snapshot ─▶ a zstd frame per piece ─▶ temp files ─▶ the compressor's tail
 */
import type { Transform } from 'node:stream';
import type { ConnInfo } from '../pg/connection';
import type { PiecedTable } from '../pg/table-pieces';
import { makeTempDir, type TempDir } from '../pipeline/temp-dir';
import type { Spawner } from '../pipeline/spawn';
import type { TailFrame } from './framed-compress';
import { startTableCopies, type TableCopies } from './table-copy';
import { createTocSplice } from './toc-splice';

export interface PiecedDump {
  /** Where pg_dump's output goes; it passes on to the compressor's input. */
  splice: Transform;
  /** The compressor's tail: the pieces' frames once all are written. */
  tail: () => Promise<readonly TailFrame[]>;
  /** The rows the COPY sessions have read, in archive bytes. */
  rawBytes(): number;
  /** Settles once the copies have ended, however they ended. */
  settled: Promise<void>;
  /** The first failure of the splice or the copies, once settled; null when both succeeded or were stopped from outside. */
  failure(): unknown;
  stop(): void;
  /** Removes the temp folder; after the upload, however it ended. */
  cleanup(): Promise<void>;
}

export interface PiecedDumpOptions {
  conn: ConnInfo;
  snapshotId: string;
  tables: readonly PiecedTable[];
  jobs: number;
  spawner: Spawner;
  zstd: { path: string; args: readonly string[] };
  env: NodeJS.ProcessEnv;
}

export async function startPiecedDump(opts: PiecedDumpOptions): Promise<PiecedDump> {
  const bytes = opts.tables.reduce((sum, t) => sum + t.bytes, 0);
  const temp: TempDir = await makeTempDir(opts.env, 'lifeboat-pieces-', `the compressed rows of the pieced tables (about ${Math.ceil(bytes / 4 / (1 << 20))} MiB)`);
  const copies: TableCopies = startTableCopies({ ...opts, dir: temp.dir });
  const splice = createTocSplice(opts.tables, (ids) => copies.start(ids));
  let first: unknown = null;
  let stoppedFromOutside = false;
  const failed = (e: unknown): void => {
    if (!stoppedFromOutside) first ??= e;
    copies.stop();
  };
  splice.once('error', failed);
  const settled = copies.frames.then(
    () => undefined,
    (e: unknown) => failed(e),
  );
  return {
    splice,
    tail: () => copies.frames,
    rawBytes: copies.rawBytes,
    settled,
    failure: () => first,
    stop: () => {
      stoppedFromOutside = first === null;
      copies.stop();
    },
    cleanup: temp.cleanup,
  };
}
