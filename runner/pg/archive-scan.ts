/**
 * Finds the data blocks in the byte stream of `pg_dump --format=custom --compress=0` while it is written: where
 * the header and TOC end and where each table's (or the large objects') data block starts. The backup cuts its
 * zstd frames there (framed-compress.ts), so a restore can later fetch and decompress only the frames holding
 * the tables one of its streams loads, instead of every stream reading the whole payload.
 *
 * No library reads pg_dump's archive format, and pg_restore cannot report block offsets of a stream, hence this
 * reader. It reads only the framing, never the SQL or the rows, following PostgreSQL's pg_backup_archiver.c
 * (ReadHead, ReadToc) and pg_backup_custom.c (_ReadExtraToc, _readBlockHeader, the chunked data and large
 * objects) for archive versions 1.14 to 1.16 (pg_dump 12 to 18):
 *
 *   int:    a sign byte, then `intSize` bytes, least significant first
 *   string: an int length (-1: NULL), then that many bytes
 *   header: "PGDMP", version (3 bytes), intSize, offSize, format (1 = custom), compression (an int before 1.15,
 *           a byte from 1.15), 7 ints of time, database name, server version, pg_dump version
 *   TOC:    an int count, then per entry dumpId, hadDumper, tableoid, oid, tag, desc, section, defn, dropStmt,
 *           copyStmt, namespace, tablespace, tableam, relkind (an int, from 1.16), owner, "false", the dependency
 *           ids (strings up to a NULL), then the custom format's data state byte and `offSize` offset bytes
 *   data:   blocks up to the end: a type byte (1 table data, 3 large objects), the entry's dumpId, then chunks
 *           (an int length, those bytes) up to a length 0; a large-object block repeats (oid, chunks, 0) up
 *           to an oid 0. pg_dump writes them in the TOC's order, and nothing after the last one
 *
 * Anything it does not recognise (another version, a malformed block, an id the TOC has no data for) makes
 * the scan invalid; the backup is then stored as before, in one frame without an index, and restores read all
 * of it. The scan never changes a byte of the stream.
 */

/** The archive versions this reader knows (major, minor): what pg_dump 12 to 18 write (18 still writes 1.16). */
const KNOWN_VERSIONS = new Set(['1.14', '1.15', '1.16']);
const CUSTOM_FORMAT = 1;
const BLOCK_DATA = 1;
const BLOCK_LARGE_OBJECTS = 3;
/** The custom format's data state of an entry that has no data block (K_OFFSET_NO_DATA). */
const NO_DATA = 3;

export class ArchiveFormatError extends Error {}

/** What the header and TOC say: where the data starts, and which entries have a data block. */
export interface ArchiveHead {
  version: string;
  intSize: number;
  /** Offset of the first byte after the TOC: where the first data block starts. */
  dataStart: number;
  /** dumpIds of the entries that have a data block, in the TOC's order. */
  dataEntries: number[];
}

/** A cursor over a buffer that may end too early: `null` from any read means "need more bytes". */
class Cursor {
  pos = 0;
  constructor(
    private readonly buf: Buffer,
    public intSize = 4,
  ) {}

  byte(): number | null {
    return this.pos < this.buf.length ? this.buf[this.pos++]! : null;
  }

  int(): number | null {
    if (this.pos + 1 + this.intSize > this.buf.length) return null;
    const negative = this.buf[this.pos]! !== 0;
    let value = 0;
    for (let i = this.intSize; i >= 1; i--) value = value * 256 + this.buf[this.pos + i]!;
    this.pos += 1 + this.intSize;
    return negative ? -value : value;
  }

  /** A string's bytes, `undefined` for NULL, `null` when the buffer ends first. */
  str(): Buffer | undefined | null {
    const len = this.int();
    if (len === null) return null;
    if (len < 0) return undefined;
    if (this.pos + len > this.buf.length) return null;
    const s = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  skip(n: number): boolean {
    if (this.pos + n > this.buf.length) return false;
    this.pos += n;
    return true;
  }
}

class NeedMore extends Error {}

function need<T>(v: T | null): T {
  if (v === null) throw new NeedMore();
  return v;
}

/** One TOC entry as the archive holds it: where its bytes are, and what a splice needs to know of it. */
export interface TocEntryLayout {
  id: number;
  /** The object's oid, as the archive writes it (a decimal string). */
  oid: string;
  /** Offsets of its first byte and of the byte after it. */
  start: number;
  end: number;
  /** pg_dump's entry type ("TABLE", "TABLE DATA", ...), its tag (the object's name) and namespace. */
  desc: string;
  tag: string;
  namespace: string | null;
  owner: string | null;
  /** pg_dump's section number: 1 none, 2 pre-data, 3 data, 4 post-data. */
  section: number;
  /** The entry has a data block. */
  hasData: boolean;
  /** The dumpIds it depends on, and the offset of the NULL that ends their list (where more can be added). */
  deps: number[];
  depsEnd: number;
}

/** The header and TOC in detail (archive-toc.ts rewrites them); parseArchiveHead is its summary. */
export interface ArchiveToc extends ArchiveHead {
  minor: number;
  offSize: number;
  /** Offset of the TOC's entry count (an int). */
  countAt: number;
  entries: TocEntryLayout[];
}

/**
 * Pure: the header and TOC at the start of `buf`, or null while `buf` holds only part of them. Throws
 * ArchiveFormatError for anything but a custom-format archive of a known version.
 */
export function parseArchiveHead(buf: Buffer): ArchiveHead | null {
  const toc = readArchiveToc(buf, false);
  return toc && { version: toc.version, intSize: toc.intSize, dataStart: toc.dataStart, dataEntries: toc.dataEntries };
}

/** parseArchiveHead with every entry's place and names (`detail`: decode the names; the scan alone does not). */
export function readArchiveToc(buf: Buffer, detail = true): ArchiveToc | null {
  const c = new Cursor(buf);
  const text = (b: Buffer | undefined): string | null => (b === undefined ? null : b.toString('utf8'));
  try {
    if (buf.length < 5) return null;
    if (buf.subarray(0, 5).toString('latin1') !== 'PGDMP') throw new ArchiveFormatError('not a pg_dump archive (no PGDMP magic)');
    c.skip(5);
    const major = need(c.byte());
    const minor = need(c.byte());
    need(c.byte()); // revision
    const version = `${major}.${minor}`;
    if (!KNOWN_VERSIONS.has(version)) throw new ArchiveFormatError(`archive version ${version} is not one this reader knows`);
    const intSize = need(c.byte());
    if (intSize < 1 || intSize > 6) throw new ArchiveFormatError(`int size ${intSize} is not supported`);
    c.intSize = intSize;
    const offSize = need(c.byte());
    const format = need(c.byte());
    if (format !== CUSTOM_FORMAT) throw new ArchiveFormatError(`archive format ${format} is not custom (1)`);
    if (minor >= 15) need(c.byte());
    else need(c.int());
    for (let i = 0; i < 7; i++) need(c.int());
    for (let i = 0; i < 3; i++) need(c.str()); // database name, server version, pg_dump version
    const countAt = c.pos;
    const count = need(c.int());
    if (count < 0) throw new ArchiveFormatError(`negative TOC entry count ${count}`);
    const dataEntries: number[] = [];
    const entries: TocEntryLayout[] = [];
    for (let i = 0; i < count; i++) {
      const start = c.pos;
      const id = need(c.int());
      const hadDumper = need(c.int());
      need(c.str()); // tableoid
      const oid = need(c.str());
      const tag = need(c.str());
      const desc = need(c.str());
      const section = need(c.int());
      need(c.str()); // defn
      need(c.str()); // dropStmt
      need(c.str()); // copyStmt
      const namespace = need(c.str());
      need(c.str()); // tablespace
      need(c.str()); // tableam
      if (minor >= 16) need(c.int()); // relkind
      const owner = need(c.str());
      need(c.str()); // "false": the old WITH OIDS flag
      const deps: number[] = [];
      let depsEnd = c.pos;
      for (;;) {
        depsEnd = c.pos;
        const dep = c.str();
        if (dep === null) throw new NeedMore();
        if (dep === undefined) break;
        if (detail) deps.push(Number(dep.toString('latin1')));
      }
      const dataState = need(c.byte());
      if (!c.skip(offSize)) throw new NeedMore();
      const hasData = Boolean(hadDumper) && dataState !== NO_DATA;
      if (hasData) dataEntries.push(id);
      if (detail) {
        entries.push({ id, oid: text(oid) ?? '0', start, end: c.pos, desc: text(desc) ?? '', tag: text(tag) ?? '', namespace: text(namespace), owner: text(owner), section, hasData, deps, depsEnd });
      }
    }
    return { version, minor, intSize, offSize, countAt, dataStart: c.pos, dataEntries, entries };
  } catch (e) {
    if (e instanceof NeedMore) return null;
    throw e;
  }
}

/** Where a data block starts in the archive's bytes, and whose it is. */
export interface DataBlock {
  offset: number;
  id: number;
}

const enum State {
  BlockType,
  Int,
  Skip,
}

const enum IntRole {
  BlockId,
  ChunkLength,
  LargeObjectId,
}

/**
 * Follows the data section, chunk by chunk, as the stream passes. `scan` returns the offsets of the blocks that
 * start in the chunk (where a frame may be cut); `finish` checks the stream ended between blocks and that the
 * blocks are exactly the TOC's data entries.
 */
export class BlockScanner {
  readonly blocks: DataBlock[] = [];
  private offset: number;
  private state = State.BlockType;
  private role = IntRole.BlockId;
  private blockType = 0;
  private inLargeObject = false;
  private intBytes: number[] = [];
  private skipLeft = 0;

  constructor(private readonly head: ArchiveHead) {
    this.offset = head.dataStart;
  }

  /** `chunk` continues the archive at the data section's current offset. Throws ArchiveFormatError. */
  scan(chunk: Buffer): number[] {
    const starts: number[] = [];
    const n = chunk.length;
    const width = 1 + this.head.intSize;
    let i = 0;
    while (i < n) {
      if (this.state === State.Skip) {
        const take = Math.min(this.skipLeft, n - i);
        i += take;
        this.skipLeft -= take;
        if (this.skipLeft === 0) this.expectInt(IntRole.ChunkLength);
        continue;
      }
      if (this.state === State.BlockType) {
        const type = chunk[i]!;
        if (type !== BLOCK_DATA && type !== BLOCK_LARGE_OBJECTS) {
          throw new ArchiveFormatError(`unknown block type ${type} at offset ${this.offset + i}`);
        }
        starts.push(this.offset + i);
        this.blocks.push({ offset: this.offset + i, id: -1 });
        this.blockType = type;
        this.inLargeObject = false;
        i++;
        this.expectInt(IntRole.BlockId);
        continue;
      }
      // State.Int: whole in this chunk (the common case) or gathered across chunks.
      let value: number;
      if (this.intBytes.length === 0 && i + width <= n) {
        value = readInt(chunk, i, this.head.intSize);
        i += width;
      } else {
        while (this.intBytes.length < width && i < n) this.intBytes.push(chunk[i++]!);
        if (this.intBytes.length < width) break;
        value = readInt(Buffer.from(this.intBytes), 0, this.head.intSize);
        this.intBytes = [];
      }
      this.onInt(value);
    }
    this.offset += n;
    return starts;
  }

  private expectInt(role: IntRole): void {
    this.state = State.Int;
    this.role = role;
  }

  private onInt(value: number): void {
    // An oid of 2^31 or more is written as a negative int; block ids and lengths are never negative.
    if (value < 0 && this.role !== IntRole.LargeObjectId) throw new ArchiveFormatError(`negative value ${value} in the data section`);
    switch (this.role) {
      case IntRole.BlockId:
        this.blocks[this.blocks.length - 1]!.id = value;
        if (this.blockType === BLOCK_LARGE_OBJECTS) this.expectInt(IntRole.LargeObjectId);
        else this.expectInt(IntRole.ChunkLength);
        return;
      case IntRole.LargeObjectId:
        if (value === 0) {
          this.state = State.BlockType;
        } else {
          this.inLargeObject = true;
          this.expectInt(IntRole.ChunkLength);
        }
        return;
      case IntRole.ChunkLength:
        if (value > 0) {
          this.state = State.Skip;
          this.skipLeft = value;
        } else if (this.blockType === BLOCK_LARGE_OBJECTS && this.inLargeObject) {
          this.inLargeObject = false;
          this.expectInt(IntRole.LargeObjectId);
        } else {
          this.state = State.BlockType;
        }
        return;
    }
  }

  /** A block that follows the scanned stream without passing through the scan (a frame compressed elsewhere). */
  addBlock(offset: number, id: number): void {
    this.blocks.push({ offset, id });
  }

  /** The blocks, once the stream has ended; throws ArchiveFormatError when they do not match the TOC. */
  finish(): DataBlock[] {
    if (this.state !== State.BlockType) throw new ArchiveFormatError('the archive ends inside a data block');
    const expected = new Set(this.head.dataEntries);
    const seen = new Set<number>();
    for (const b of this.blocks) {
      if (!expected.has(b.id)) throw new ArchiveFormatError(`data block of entry ${b.id}, which the TOC gives no data`);
      if (seen.has(b.id)) throw new ArchiveFormatError(`two data blocks of entry ${b.id}`);
      seen.add(b.id);
    }
    if (seen.size !== expected.size) throw new ArchiveFormatError(`${expected.size - seen.size} TOC entries with data have no data block`);
    return this.blocks;
  }
}

function readInt(buf: Buffer, at: number, intSize: number): number {
  let value = 0;
  for (let k = intSize; k >= 1; k--) value = value * 256 + buf[at + k]!;
  return buf[at]! !== 0 ? -value : value;
}
