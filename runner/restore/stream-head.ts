/**
 * The head of a streamed restore (restore/stream.ts): the archive's header and TOC read from the start of the
 * payload into a file of its own, and the TOC as pg_restore reads it.
 *
 * - With usable frames (payload/frames.ts) the head is exactly the first frame: read by range, checked against
 *   its sha256, decompressed whole. An age payload's frames are read through random access (age-range.ts).
 * - Without: the first HEAD_FIRST compressed bytes, grown 4x at a time while the TOC does not fit, up to
 *   HEAD_MAX; zstd -d of a cut-off head writes every block it could decode.
 *
 * readStreamHead(...) → { toc, reader, headBytes } | null: null when the head cannot be read, fails its checksum
 * or does not list; the caller then takes the temp-file path, which reports a broken payload properly.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CompleteBackup } from '../catalog/catalog';
import { openRandomAccess, type AgeRandomAccess } from '../crypto/age-range';
import { parseTocList, type TocEntry } from '../pg/toc';
import { watchChild, type Spawner, type WatchedChild } from '../pipeline/spawn';
import type { Storage } from '../storage/types';
import { openDecryptor } from '../payload/fetch';
import { frameOffsets, readFrame, readRange, usableFrames, type FrameReader } from '../payload/frames';
import type { Section } from './stream-split';

/** The head read first; grown 4x at a time while the TOC does not fit, up to HEAD_MAX (compressed bytes). */
const HEAD_FIRST = 1 << 20;
const HEAD_MAX = 16 << 20;
/** Stored bytes read for an age payload's header (a few hundred bytes per recipient) before its frames. */
const AGE_HEAD_READ = 64 << 10;

export interface HeadInputs {
  backup: CompleteBackup;
  storage: Storage;
  identityText?: string;
  /** Compressed bytes of the first head read and the most it may grow to; HEAD_FIRST and HEAD_MAX by default. */
  head?: { first: number; max: number };
}

export interface ArchiveToc {
  entries: TocEntry[];
  sections: Map<number, Section>;
}

export interface StreamHead {
  toc: ArchiveToc;
  /** How to read the payload by frames; null: read it whole. */
  reader: FrameReader | null;
  /** The head frame's compressed bytes, when read by frames. */
  headBytes: Buffer | null;
}

/** Reads the head into `headFile` and lists its TOC; null to use the temp-file path. */
export async function readStreamHead(
  inputs: HeadInputs,
  objectUrl: string,
  headFile: string,
  tools: { zstd: string; pgRestore: string },
  spawner: Spawner,
  ctx: { env: NodeJS.ProcessEnv; signal: AbortSignal },
): Promise<StreamHead | null> {
  const reader = await openFrameReader(inputs, ctx.signal);
  if (reader) {
    // The head is exactly the first frame: read it, check it, decompress it whole.
    const headBytes = await readFrame(inputs.storage, inputs.backup.payloadKey, objectUrl, reader, 0).catch(() => null);
    if (!headBytes) return null;
    await decompressHead(tools.zstd, headBytes, headFile, spawner, ctx.env);
    const toc = await readArchiveToc(tools.pgRestore, headFile, ctx.env);
    return toc ? { toc, reader, headBytes } : null;
  }
  const { first, max } = inputs.head ?? { first: HEAD_FIRST, max: HEAD_MAX };
  for (let limit = first; limit <= max; limit *= 4) {
    const head = await readPayloadHead(inputs, objectUrl, limit, ctx.signal);
    if (!head) return null;
    await decompressHead(tools.zstd, head.bytes, headFile, spawner, ctx.env);
    const toc = await readArchiveToc(tools.pgRestore, headFile, ctx.env);
    if (toc) return { toc, reader: null, headBytes: null };
    if (head.whole) return null;
  }
  return null;
}

/**
 * How to read the payload by frames, or null to read it whole: no usable frames (payload/frames.ts), or an age
 * payload whose header cannot be read here (the temp-file path reads it again and says why).
 */
async function openFrameReader(inputs: HeadInputs, signal: AbortSignal): Promise<FrameReader | null> {
  const { backup, storage } = inputs;
  const { encryption, storedBytes, frames } = backup.manifest.payload;
  if (!frames) return null;
  let access: AgeRandomAccess | null = null;
  if (encryption) {
    try {
      const start = await readRange(storage, backup.payloadKey, 0, Math.min(storedBytes, AGE_HEAD_READ), signal);
      access = await openRandomAccess(inputs.identityText ?? '', start, storedBytes);
    } catch {
      return null;
    }
    if (!access) return null;
  }
  const usable = usableFrames(backup, access?.plainBytes);
  return usable ? { frames: usable, offsets: frameOffsets(usable), access } : null;
}

/** The first `limit` plaintext bytes of the payload, or all of it (`whole`) when shorter; null when unreadable. */
async function readPayloadHead(inputs: HeadInputs, objectUrl: string, limit: number, signal: AbortSignal): Promise<{ bytes: Buffer; whole: boolean } | null> {
  const decryptor = await openDecryptor(inputs.backup, inputs.identityText, objectUrl);
  const stop = new AbortController();
  const chunks: Buffer[] = [];
  let size = 0;
  const collect = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      size += chunk.length;
      cb();
      if (size >= limit) stop.abort();
    },
  });
  try {
    const stored = await inputs.storage.get(inputs.backup.payloadKey);
    const stages = decryptor ? [stored, decryptor, collect] : [stored, collect];
    await pipeline(stages as unknown as [Readable, Writable], { signal: AbortSignal.any([stop.signal, signal]) });
    return { bytes: Buffer.concat(chunks, size), whole: true };
  } catch {
    if (stop.signal.aborted && !signal.aborted) return { bytes: Buffer.concat(chunks, size).subarray(0, limit), whole: false };
    return null; // read or decryption failed: the temp-file path reads it again and says why
  }
}

/** zstd -d of a cut-off head: it writes every block it could decode, then exits 1 on the cut frame (expected). */
async function decompressHead(zstd: string, head: Buffer, file: string, spawner: Spawner, env: NodeJS.ProcessEnv): Promise<void> {
  const out = await fs.open(file, 'w');
  let dec: WatchedChild;
  try {
    dec = watchChild('zstd', spawner(zstd, ['-d', '-q', '-c'], { env, stdio: ['pipe', out.fd, 'pipe'] }));
  } finally {
    await out.close();
  }
  dec.child.stdin!.on('error', () => undefined);
  dec.child.stdin!.end(head);
  await dec.done;
}

/**
 * The head file's TOC: `pg_restore --list --verbose` for the entries with their dependencies, and one
 * `--list --section=X` per section for each entry's section as pg_restore counts it. null while the head holds
 * only part of the TOC (pg_restore then fails: it never lists part of one).
 */
async function readArchiveToc(pgRestore: string, file: string, env: NodeJS.ProcessEnv): Promise<ArchiveToc | null> {
  const run = (args: string[]): Promise<string | null> =>
    new Promise((resolve) => {
      execFile(pgRestore, [...args, file], { env: { ...env, LC_ALL: 'C', LC_MESSAGES: 'C' }, maxBuffer: 1 << 30, encoding: 'utf8' }, (err, stdout) => {
        resolve(err ? null : stdout);
      });
    });
  const SECTIONS: Section[] = ['pre-data', 'data', 'post-data'];
  const [all, ...bySection] = await Promise.all([run(['--list', '--verbose']), ...SECTIONS.map((x) => run(['--list', `--section=${x}`]))]);
  if (all === null || bySection.some((t) => t === null)) return null;
  const sections = new Map<number, Section>();
  SECTIONS.forEach((x, i) => {
    for (const e of parseTocList(bySection[i]!)) sections.set(e.id, x);
  });
  return { entries: parseTocList(all), sections };
}

