/**
 * The stage between pg_dump and the framed compressor in `backup --jobs` (payload/table-copy.ts): it holds
 * pg_dump's output until the archive's header and TOC parse, gives each pieced table's entries the dumpIds after
 * pg_dump's highest, writes the TOC with those entries (pg/archive-toc.ts) and then lets the rest through
 * unchanged. The pieces' blocks follow pg_dump's last block later (the compressor's tail).
 *
 * An archive it cannot read fails the backup: the pieced tables' rows are not in pg_dump's output, so an archive
 * without their entries would restore them empty.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { runtimeError } from '../errors';
import { maxDumpId, spliceToc, type AddedDataEntry } from '../pg/archive-toc';
import { ArchiveFormatError, readArchiveToc, type ArchiveToc } from '../pg/archive-scan';
import type { PiecedTable } from '../pg/table-pieces';
import { qualified } from '../pg/tables';
import type { PieceIds } from './table-copy';

/** A TOC larger than this is not waited for (pg_dump's TOC of 100,000 tables is some tens of MiB). */
const HEAD_MAX = 256 << 20;

/**
 * Pure: the entries to add for `tables` and their ids, after the TOC's highest id (archive-toc.ts says why this
 * shape): per table its empty first entry, then its pieces; and the pieces each post-data entry on a pieced table
 * must wait for.
 */
export function piecedEntries(toc: ArchiveToc, tables: readonly PiecedTable[]): { entries: AddedDataEntry[]; ids: PieceIds; moreDeps: Map<number, number[]> } {
  let id = maxDumpId(toc);
  const entries: AddedDataEntry[] = [];
  const ids: PieceIds = { intSize: toc.intSize, pieces: [], first: [] };
  const piecesOf = new Map<number, number[]>();
  for (const t of tables) {
    const table = toc.entries.find((e) => e.desc === 'TABLE' && e.namespace === t.schema && e.tag === t.name);
    if (!table) throw new ArchiveFormatError(`pg_dump's archive has no TABLE entry for ${qualified(t)}`);
    const first = ++id;
    entries.push({ id: first, table, copyStmt: t.copyStmt, deps: [table.id] });
    const pieces = t.pieces.map(() => ++id);
    for (const p of pieces) entries.push({ id: p, table, copyStmt: t.copyStmt, deps: [first, table.id] });
    ids.first.push(first);
    ids.pieces.push(pieces);
    piecesOf.set(table.id, pieces);
  }
  const moreDeps = new Map<number, number[]>();
  for (const e of toc.entries) {
    if (e.section < 4) continue;
    const more = e.deps.flatMap((d) => piecesOf.get(d) ?? []);
    if (more.length) moreDeps.set(e.id, more);
  }
  return { entries, ids, moreDeps };
}

export function createTocSplice(tables: readonly PiecedTable[], onIds: (ids: PieceIds) => void): Transform {
  let held: Buffer[] = [];
  let heldBytes = 0;
  let nextTry = 0;
  let passing = false;
  const spliced = (buf: Buffer): Buffer | null => {
    let toc: ArchiveToc | null;
    try {
      toc = readArchiveToc(buf);
    } catch (e) {
      if (!(e instanceof ArchiveFormatError)) throw e;
      throw runtimeError('archive_splice_failed', `backup --jobs cannot add the pieced tables to pg_dump's archive: ${e.message}`, 'Run the backup with --jobs 1');
    }
    if (!toc) {
      if (buf.length > HEAD_MAX) throw runtimeError('archive_splice_failed', `pg_dump's TOC did not end within ${HEAD_MAX >> 20} MiB`, 'Run the backup with --jobs 1');
      return null;
    }
    let added: ReturnType<typeof piecedEntries>;
    try {
      added = piecedEntries(toc, tables);
    } catch (e) {
      throw runtimeError('archive_splice_failed', `backup --jobs cannot add the pieced tables to pg_dump's archive: ${(e as Error).message}`, 'Run the backup with --jobs 1');
    }
    const head = spliceToc(buf.subarray(0, toc.dataStart), toc, added.entries, added.moreDeps);
    onIds(added.ids);
    return Buffer.concat([head, buf.subarray(toc.dataStart)]);
  };
  return new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (passing) return cb(null, chunk);
      held.push(chunk);
      heldBytes += chunk.length;
      // Parsed on every chunk up to 1 MiB, then whenever the held bytes have doubled (each try starts over).
      if (heldBytes < nextTry) return cb();
      nextTry = heldBytes < 1 << 20 ? 0 : heldBytes * 2;
      try {
        const buf = Buffer.concat(held, heldBytes);
        held = [buf];
        const out = spliced(buf);
        if (out === null) return cb();
        passing = true;
        held = [];
        cb(null, out);
      } catch (e) {
        cb(e as Error);
      }
    },
    flush(cb: TransformCallback) {
      if (passing) return cb();
      try {
        const out = heldBytes ? spliced(Buffer.concat(held, heldBytes)) : null;
        if (out !== null) return cb(null, out);
      } catch (e) {
        return cb(e as Error);
      }
      cb(runtimeError('archive_splice_failed', "pg_dump's output ended before its TOC did", 'Run the backup with --jobs 1'));
    },
  });
}
