/**
 * The COPY sessions of `backup --jobs N` (runner/pg/table-pieces.ts says which tables, and why):
 *
 *   N sessions, each in the dump's snapshot (SET TRANSACTION SNAPSHOT), take the pieces largest table first;
 *   per piece: COPY ... TO STDOUT ─▶ the data block's framing (pg/archive-toc.ts) ─▶ zstd, a frame of its own
 *   ─▶ a file in the backup's temp folder
 *
 * The frames wait there until pg_dump's archive has passed through the compressor, then follow it in the payload
 * in the TOC's order (framed-compress.ts's tail), hashed and indexed like the others. The blocks need the dumpIds
 * the TOC splice gives the pieces, so a session starts its first COPY once pg_dump's TOC has been read.
 *
 * Each session sets what pg_dump sets for its own COPY (setup_connection): the database's encoding (pg_dump is
 * given it too), ISO dates, the postgres interval style, extra_float_digits 3, an empty search_path (so regclass
 * and the other reg* values come out schema-qualified), row_security off (a table whose policies would hide rows
 * fails, as with pg_dump, instead of being dumped short), and no timeouts.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type TransformCallback } from 'node:stream';
import type { Client } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { runtimeError } from '../errors';
import { blockEnd, blockStart, chunkHeader } from '../pg/archive-toc';
import { connectPg, type ConnInfo } from '../pg/connection';
import type { PiecedTable } from '../pg/table-pieces';
import { qualified } from '../pg/tables';
import { childSucceeded, describeChildFailure, watchChild, type Spawner, type WatchedChild } from '../pipeline/spawn';

/** A compressed frame of one piece (and, for a table's first piece, of the table's empty first entry before it). */
export interface PieceFrame {
  path: string;
  rawBytes: number;
  /** The data blocks in it: dumpId and offset in its raw bytes. */
  blocks: { id: number; offset: number }[];
}

/** The dumpIds of each table's empty first entry and of its pieces, in the order of `tables`. */
export interface PieceIds {
  intSize: number;
  first: number[];
  pieces: number[][];
}

export interface TableCopies {
  /** The ids, once the TOC splice has given them: the COPYs start. */
  start(ids: PieceIds): void;
  /** Every piece's frame, in the TOC's order, once all are written; rejects with the first failure. */
  frames: Promise<PieceFrame[]>;
  /** Rows read so far, in archive bytes. */
  rawBytes(): number;
  /** Stops every COPY and zstd (another part of the backup failed, or it was interrupted). */
  stop(): void;
}

export interface TableCopyOptions {
  conn: ConnInfo;
  snapshotId: string;
  tables: readonly PiecedTable[];
  jobs: number;
  dir: string;
  spawner: Spawner;
  zstd: { path: string; args: readonly string[] };
  env: NodeJS.ProcessEnv;
}

/**
 * The last chunk of every COPY block pg_dump writes (12 to 18): the end-of-data line and two blank lines. A
 * restore into a database ends the COPY itself, but a script (pg_restore --file, which `restore --table --clean`
 * runs through psql) needs it to leave the rows.
 */
const END_OF_COPY = Buffer.from('\\.\n\n\n');

interface Piece {
  table: number;
  index: number;
  sql: string;
}

export function startTableCopies(opts: TableCopyOptions): TableCopies {
  const pieces: Piece[] = opts.tables.flatMap((t, table) => t.pieces.map((sql, index) => ({ table, index, sql })));
  const results = new Map<Piece, PieceFrame>();
  const clients = new Set<Client>();
  const children = new Set<WatchedChild>();
  let raw = 0;
  let stopped = false;
  let giveIds: (ids: PieceIds) => void = () => undefined;
  let noIds: (e: Error) => void = () => undefined;
  const idsReady = new Promise<PieceIds>((resolve, reject) => {
    giveIds = resolve;
    noIds = reject;
  });
  idsReady.catch(() => undefined);
  let next = 0;

  const runPiece = async (client: Client, piece: Piece, ids: PieceIds): Promise<void> => {
    const t = opts.tables[piece.table]!;
    const id = ids.pieces[piece.table]![piece.index]!;
    const firstPiece = piece.index === 0;
    const file = path.join(opts.dir, `piece-${piece.table}-${piece.index}.zst`);
    // zstd writes the file itself: the compressed bytes never pass through this process.
    const out = await fs.open(file, 'w', 0o600);
    let zstd: WatchedChild;
    try {
      zstd = watchChild('zstd', opts.spawner(opts.zstd.path, opts.zstd.args, { env: opts.env, stdio: ['pipe', out.fd, 'pipe'] }));
    } finally {
      await out.close();
    }
    children.add(zstd);
    let pieceRaw = 0;
    let ownOffset = 0;
    const push = (out: Transform, b: Buffer): void => {
      pieceRaw += b.length;
      raw += b.length;
      out.push(b);
    };
    const framing = new Transform({
      transform(chunk: Buffer, _enc, cb: TransformCallback) {
        // A chunk of length 0 would read as the block's end.
        if (chunk.length === 0) return cb();
        push(this, chunkHeader(chunk.length, ids.intSize));
        push(this, chunk);
        cb();
      },
      flush(cb: TransformCallback) {
        push(this, chunkHeader(END_OF_COPY.length, ids.intSize));
        push(this, END_OF_COPY);
        push(this, blockEnd(ids.intSize));
        cb();
      },
    });
    if (firstPiece) {
      // The table's empty first entry: its block comes first, in the first piece's frame.
      push(framing, blockStart(ids.first[piece.table]!, ids.intSize));
      push(framing, chunkHeader(END_OF_COPY.length, ids.intSize));
      push(framing, END_OF_COPY);
      push(framing, blockEnd(ids.intSize));
      ownOffset = pieceRaw;
    }
    push(framing, blockStart(id, ids.intSize));
    try {
      const copy = client.query(copyTo(piece.sql));
      await Promise.all([
        pipeline(copy, framing, zstd.child.stdin!),
        zstd.done.then((r) => {
          if (!childSucceeded(r)) throw new Error(describeChildFailure(r));
        }),
      ]);
    } catch (e) {
      if (stopped) throw e;
      throw runtimeError('table_copy_failed', `dumping the rows of ${qualified(t)} (piece ${piece.index + 1} of ${t.pieces.length}) failed: ${(e as Error).message}`, undefined, e);
    } finally {
      children.delete(zstd);
    }
    results.set(piece, { path: file, rawBytes: pieceRaw, blocks: [...(firstPiece ? [{ id: ids.first[piece.table]!, offset: 0 }] : []), { id, offset: ownOffset }] });
  };

  const session = async (): Promise<void> => {
    const client = await connectPg(opts.conn);
    clients.add(client);
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query(`SET TRANSACTION SNAPSHOT '${opts.snapshotId.replace(/'/g, "''")}'`);
      await client.query(
        `SELECT set_config('client_encoding', current_setting('server_encoding'), false), set_config('DateStyle', 'ISO', false),
                set_config('IntervalStyle', 'postgres', false), set_config('extra_float_digits', '3', false),
                set_config('row_security', 'off', false), set_config('statement_timeout', '0', false),
                set_config('lock_timeout', '0', false), set_config('idle_in_transaction_session_timeout', '0', false),
                set_config('synchronize_seqscans', 'off', false), set_config('search_path', '', false)`,
      );
      const ids = await idsReady;
      while (!stopped && next < pieces.length) await runPiece(client, pieces[next++]!, ids);
      await client.query('COMMIT');
    } finally {
      clients.delete(client);
      await client.end().catch(() => undefined);
    }
  };

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    noIds(new Error('stopped before the archive gave the pieces their ids'));
    for (const c of children) c.kill();
    // Ending a session in a COPY stops it on the server too.
    for (const c of clients) void c.end().catch(() => undefined);
  };

  const frames = (async (): Promise<PieceFrame[]> => {
    if (pieces.length === 0) return [];
    // The first failure stops the other sessions at once; theirs, caused by the stop, are not the story.
    let failure: unknown = null;
    const sessions = Array.from({ length: Math.max(1, Math.min(opts.jobs, pieces.length)) }, () =>
      session().catch((e: unknown) => {
        if (!stopped) failure ??= e;
        stop();
      }),
    );
    await Promise.all(sessions);
    if (failure) throw failure;
    if (stopped) throw runtimeError('interrupted', 'the table copies were stopped');
    return pieces.map((p) => results.get(p)!);
  })();
  frames.catch(() => undefined); // the caller awaits it; a failure before it does must not go unhandled

  return { start: giveIds, frames, rawBytes: () => raw, stop };
}
