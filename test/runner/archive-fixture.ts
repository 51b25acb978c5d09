/**
 * Synthetic pg_dump custom-format archives, byte for byte as pg_backup_archiver.c and pg_backup_custom.c write
 * them to a pipe (no compression), for the scanner's and the framed compressor's tests: every archive version
 * pg_dump 12 to 18 writes, table data and large-object blocks.
 */

export function int(v: number, intSize = 4): Buffer {
  const b = Buffer.alloc(1 + intSize);
  b[0] = v < 0 ? 1 : 0;
  let m = Math.abs(v);
  for (let i = 1; i <= intSize; i++) {
    b[i] = m % 256;
    m = Math.floor(m / 256);
  }
  return b;
}

export function str(s: string | null): Buffer {
  if (s === null) return int(-1);
  const body = Buffer.from(s, 'utf8');
  return Buffer.concat([int(body.length), body]);
}

export interface FixtureEntry {
  id: number;
  desc: string;
  /** Table data: the chunks of its block. */
  chunks?: Buffer[];
  /** Large objects: [oid, chunks] each; oids of 2^31 and more are written negative, as pg_dump does. */
  largeObjects?: [number, Buffer[]][];
  /** pg_dump's section number; default 3 (data) for an entry with data, else 2 (pre-data). */
  section?: number;
  /** Default `tag <id>`. */
  tag?: string;
}

export interface Fixture {
  bytes: Buffer;
  dataStart: number;
  /** Offset and id of each data block. */
  blocks: { offset: number; id: number }[];
}

/** An archive of version 1.`minor` whose entries with chunks or large objects have a data block. */
export function archive(minor: 14 | 15 | 16, entries: FixtureEntry[]): Fixture {
  const parts: Buffer[] = [Buffer.from('PGDMP'), Buffer.from([1, minor, 0, 4, 8, 1])];
  parts.push(minor >= 15 ? Buffer.from([0]) : int(0));
  for (const t of [36, 27, 22, 21, 10, 126, 0]) parts.push(int(t));
  parts.push(str('app'), str('15.18'), str('15.18'));
  parts.push(int(entries.length));
  for (const e of entries) {
    const hasData = e.chunks !== undefined || e.largeObjects !== undefined;
    parts.push(int(e.id), int(hasData ? 1 : 0), str('0'), str(String(1000 + e.id)), str(e.tag ?? `tag ${e.id}`), str(e.desc), int(e.section ?? (hasData ? 3 : 2)));
    parts.push(str(`-- defn ${e.id}`), str(null), str(hasData ? 'COPY t FROM stdin;' : null), str('public'), str(''), str(minor >= 14 ? 'heap' : null));
    if (minor >= 16) parts.push(int(hasData ? 114 : 0));
    parts.push(str('postgres'), str('false'), str('1'), str(null));
    parts.push(Buffer.from([hasData ? 1 : 3]), Buffer.alloc(8));
  }
  const head = Buffer.concat(parts);
  const blocks: { offset: number; id: number }[] = [];
  const data: Buffer[] = [];
  let at = head.length;
  const push = (b: Buffer): void => {
    data.push(b);
    at += b.length;
  };
  for (const e of entries) {
    if (e.chunks) {
      blocks.push({ offset: at, id: e.id });
      push(Buffer.from([1]));
      push(int(e.id));
      for (const c of e.chunks) {
        push(int(c.length));
        push(c);
      }
      push(int(0));
    } else if (e.largeObjects) {
      blocks.push({ offset: at, id: e.id });
      push(Buffer.from([3]));
      push(int(e.id));
      for (const [oid, chunks] of e.largeObjects) {
        push(int(oid >= 2 ** 31 ? oid - 2 ** 32 : oid));
        for (const c of chunks) {
          push(int(c.length));
          push(c);
        }
        push(int(0));
      }
      push(int(0));
    }
  }
  return { bytes: Buffer.concat([head, ...data]), dataStart: head.length, blocks };
}

/** Rows of COPY text, in chunks of one row each, as pg_dump writes them. */
export function rows(n: number, width = 40, seed = 0): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.from(`${i + seed}\t${'v'.repeat((i * 7 + seed) % width)}\n`));
}
