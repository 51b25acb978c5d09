/**
 * TABLE DATA entries added to the TOC of a pg_dump custom-format archive while it streams, and their data blocks
 * appended after pg_dump's own: how `backup --jobs` puts the rows of large tables, dumped by parallel COPY
 * sessions in the dump's snapshot (payload/table-copy.ts), into the one archive pg_dump writes. The result is a
 * plain archive: pg_restore reads it, in parallel or from a pipe, with nothing beside it, and so does a person
 * restoring by hand.
 *
 * No library writes pg_dump's archive format, so the writer is ours; it mirrors pg_backup_archiver.c's WriteToc
 * field by field for versions 1.14 to 1.16 (archive-scan.ts reads the same fields), and tests compare what it
 * writes with pg_dump's own entry for the same table, byte for byte, for each of the three (pg_dump 15, 16, 18).
 *
 * A table dumped in k pieces gets an empty TABLE DATA entry, then k more (each a block of its own, its rows
 * between two ctids) that depend on the empty one, and the table's post-data entries (its keys, indexes,
 * triggers) are made to depend on the k pieces too. Why so: pg_restore -j takes one entry as the table's data,
 * the last in the TOC whose first dependency is the table (here only the empty one, the pieces' first is the
 * empty entry); it TRUNCATEs the table before loading that entry when it made the table in the same run, and moves the table's
 * post-data work after it (buildTocEntryArrays, mark_create_done, repoint_table_dependencies). So that entry must
 * load first and hold nothing, and the post-data work must wait for the pieces by dependencies of its own. The
 * pieces, which depend on the empty entry (then on the table), then load side by side. The added entries go at the end of the
 * data section and their blocks after the last block of pg_dump's, so blocks stay in the TOC's order, which a
 * reader of a pipe needs.
 */
import { ArchiveFormatError, type ArchiveToc, type TocEntryLayout } from './archive-scan';

/** pg_dump's section number of the data section, and of post-data. */
const SECTION_DATA = 3;
const SECTION_POST_DATA = 4;
/** The custom format's data state of an entry whose block follows, position unknown (a pipe: K_OFFSET_POS_NOT_SET). */
const POSITION_NOT_SET = 1;
const BLOCK_DATA = 1;

/** A TABLE DATA entry to add: the empty first entry of a pieced table, or one piece of its rows. */
export interface AddedDataEntry {
  id: number;
  /** The table's own TABLE entry in the archive (its oid, name, namespace and owner). */
  table: TocEntryLayout;
  /** `COPY schema.name (columns) FROM stdin;`, what pg_restore runs before the block's rows. */
  copyStmt: string;
  /** The entries it depends on, in order: the table (the empty entry), or the empty entry and the table (a piece). */
  deps: number[];
}

export function encodeInt(value: number, intSize: number): Buffer {
  const b = Buffer.alloc(1 + intSize);
  b[0] = value < 0 ? 1 : 0;
  let v = Math.abs(value);
  for (let i = 1; i <= intSize; i++) {
    b[i] = v % 256;
    v = Math.floor(v / 256);
  }
  if (v !== 0) throw new ArchiveFormatError(`${value} does not fit the archive's ${intSize}-byte ints`);
  return b;
}

function encodeStr(s: string | null, intSize: number): Buffer {
  if (s === null) return encodeInt(-1, intSize);
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([encodeInt(bytes.length, intSize), bytes]);
}

/** One TOC entry, as WriteToc and the custom format's WriteExtraToc write pg_dump's TABLE DATA entries. */
export function encodeDataEntry(e: AddedDataEntry, toc: Pick<ArchiveToc, 'minor' | 'intSize' | 'offSize'>): Buffer {
  const int = (v: number): Buffer => encodeInt(v, toc.intSize);
  const str = (s: string | null): Buffer => encodeStr(s, toc.intSize);
  return Buffer.concat([
    int(e.id),
    int(1), // it has a dumper
    str('0'), // the catalog id of a table's data: tableoid 0, the table's oid
    str(e.table.oid),
    str(e.table.tag),
    str('TABLE DATA'),
    int(SECTION_DATA),
    str(null), // defn
    str(null), // dropStmt
    str(e.copyStmt),
    str(e.table.namespace),
    str(null), // tablespace
    str(null), // table access method
    ...(toc.minor >= 16 ? [int(0)] : []), // relkind: pg_dump gives none for table data
    str(e.table.owner),
    str('false'), // the old WITH OIDS flag
    ...e.deps.map((d) => str(String(d))),
    str(null), // end of the dependencies
    Buffer.from([POSITION_NOT_SET]),
    Buffer.alloc(toc.offSize),
  ]);
}

/**
 * Pure: the archive's head (`head`: its first toc.dataStart bytes) with `added` at the end of its data section,
 * the entry count raised, and `moreDeps` (entry id -> dumpIds) appended to existing entries' dependencies. Throws
 * ArchiveFormatError when an entry with data follows that place (blocks would then be out of the TOC's order).
 */
export function spliceToc(head: Buffer, toc: ArchiveToc, added: readonly AddedDataEntry[], moreDeps: ReadonlyMap<number, readonly number[]> = new Map()): Buffer {
  const at = toc.entries.findIndex((e) => e.section >= SECTION_POST_DATA);
  const cut = at < 0 ? toc.entries.length : at;
  const late = toc.entries.slice(cut).find((e) => e.hasData);
  if (late) throw new ArchiveFormatError(`entry ${late.id} (${late.desc} ${late.tag}) has data after the data section`);
  const entry = (e: TocEntryLayout): Buffer[] => {
    const more = moreDeps.get(e.id);
    if (!more?.length) return [head.subarray(e.start, e.end)];
    return [head.subarray(e.start, e.depsEnd), ...more.map((d) => encodeStr(String(d), toc.intSize)), head.subarray(e.depsEnd, e.end)];
  };
  const first = toc.entries[0]?.start ?? toc.dataStart;
  return Buffer.concat([
    head.subarray(0, toc.countAt),
    encodeInt(toc.entries.length + added.length, toc.intSize),
    head.subarray(toc.countAt + 1 + toc.intSize, first),
    ...toc.entries.slice(0, cut).flatMap(entry),
    ...added.map((e) => encodeDataEntry(e, toc)),
    ...toc.entries.slice(cut).flatMap(entry),
    head.subarray(toc.entries.length ? toc.entries[toc.entries.length - 1]!.end : toc.dataStart, toc.dataStart),
  ]);
}

/** The start of an entry's data block: its type and dumpId. Chunks follow (chunkHeader, bytes), then blockEnd. */
export function blockStart(id: number, intSize: number): Buffer {
  return Buffer.concat([Buffer.from([BLOCK_DATA]), encodeInt(id, intSize)]);
}

export function chunkHeader(length: number, intSize: number): Buffer {
  return encodeInt(length, intSize);
}

export function blockEnd(intSize: number): Buffer {
  return encodeInt(0, intSize);
}

/** The highest dumpId in the TOC: added entries take the ids after it. */
export function maxDumpId(toc: ArchiveToc): number {
  return toc.entries.reduce((m, e) => Math.max(m, e.id), 0);
}
