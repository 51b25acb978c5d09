/**
 * zstd compression of a pg_dump custom-format archive in independent frames, cut where data blocks start, with
 * an index of the frames (compressed size, sha256, the data blocks in each). zstd frames concatenated are one
 * valid zstd stream, so `zstd -d` of the whole payload still gives the archive, byte for byte. What the frames
 * add: a restore stream can fetch the head frame (header and TOC) and the frames of its own tables by range,
 * decompress only those, and check each one's sha256 on its own (restore/stream.ts).
 *
 *   pg_dump ─▶ input ─(archive-scan.ts finds the TOC's end and each block's start)─▶ zstd, one per frame ─▶ output
 *
 * Frame cuts: always where the TOC ends, so the first frame is the head; then at a block's start when the frame
 * holds at least FRAME_MIN archive bytes (LIFEBOAT_FRAME_MIN_KIB) and a 64th of the archive so far. That keeps
 * a small table with its neighbours and the number of frames (one zstd process each) near 64 × ln(size / 64 MiB)
 * for archives of many small tables, while a large table starts its own frame.
 *
 * zstd's CLI cannot end a frame on request mid-stream, and Node 20's zlib has no zstd; so each frame is its own
 * zstd process. At a cut the next one is spawned before the previous one is closed (its output waits its turn):
 * one always runs while the archive continues, and the spawn overlaps the close.
 *
 * When the archive cannot be scanned (archive-scan.ts) the rest goes into the current frame and `index()` is
 * null: the payload is then what it was before frames, a valid zstd stream without an index.
 */
import { createHash, type Hash } from 'node:crypto';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { ArchiveFormatError, BlockScanner, parseArchiveHead, type ArchiveHead, type DataBlock } from '../pg/archive-scan';
import { usageError } from '../errors';
import { childSucceeded, drainOrClose, watchChild, type ChildResult, type Spawner, type WatchedChild } from '../pipeline/spawn';

/** A frame of the payload: `bytes` compressed bytes (their sha256) holding `rawBytes` of the archive. */
export interface PayloadFrame {
  rawBytes: number;
  bytes: number;
  sha256: string;
  /** dumpIds of the data blocks that start in this frame (they end in it too). */
  blocks: number[];
}

/** The smallest frame cut before a block, in archive bytes (LIFEBOAT_FRAME_MIN_KIB). */
const FRAME_MIN = 1 << 20;

/** LIFEBOAT_FRAME_MIN_KIB (0..1048576) in bytes, or FRAME_MIN. 0 cuts before every block (tests of small databases). */
export function frameMinBytes(env: NodeJS.ProcessEnv): number {
  const raw = env.LIFEBOAT_FRAME_MIN_KIB;
  if (raw === undefined || raw === '') return FRAME_MIN;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 1 << 20) {
    throw usageError('frame_min_invalid', `LIFEBOAT_FRAME_MIN_KIB expected a whole number of KiB from 0 to 1048576, got "${raw}"`);
  }
  return n * 1024;
}

/** The TOC is buffered until it parses; past this the archive is compressed without frames. */
const HEAD_BUFFER_MAX = 16 << 20;

interface OpenFrame {
  proc: WatchedChild;
  hash: Hash;
  raw: number;
  bytes: number;
  rawStart: number;
  /** stdout ended (all its bytes passed on) */
  drained: Promise<void>;
}

export interface FramedCompressor {
  /** Where the archive is written. It never errors: a failed zstd is reported by `done`, later bytes dropped. */
  input: Writable;
  /** The compressed frames, one after another. */
  output: Readable;
  /** How the zstd processes ended: the first failure, or the last one's success once the input has ended. */
  done: Promise<ChildResult>;
  /** The frames, once `done` succeeded; null when the archive was not scanned (one frame, no index). */
  index(): PayloadFrame[] | null;
  kill(): void;
}

export function createFramedCompressor(spawner: Spawner, zstdPath: string, zstdArgs: readonly string[], env: NodeJS.ProcessEnv, frameMin = FRAME_MIN): FramedCompressor {
  const output = new PassThrough({ highWaterMark: 1 << 20 });
  const frames: (PayloadFrame & { rawStart: number })[] = [];
  let mode: 'head' | 'data' | 'plain' = 'head';
  let head: ArchiveHead | null = null;
  let scanner: BlockScanner | null = null;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  // Tried on every chunk up to 1 MiB (the TOC of most databases: its frame's zstd starts as soon as it is whole,
  // even when the dump then stalls), then whenever the buffered bytes have doubled (each try starts over).
  let nextParseAt = 0;
  let rawWritten = 0;
  let current: OpenFrame | null = null;
  let cutBeforeNext = false;
  /** The data blocks, once the scan has checked them against the TOC at the end. */
  let blocks: DataBlock[] = [];
  let failure: ChildResult | null = null;
  let last: ChildResult | null = null;
  let killed = false;
  let settle: (r: ChildResult) => void = () => undefined;
  const done = new Promise<ChildResult>((resolve) => {
    settle = resolve;
  });

  /** Every zstd not yet exited, the one being closed included: what kill() and a lost output must reach. */
  const live = new Set<OpenFrame>();
  const stopped = (): boolean => killed || failure !== null || output.destroyed;
  output.once('close', () => {
    for (const f of live) f.proc.child.stdout?.resume();
  });

  const fail = (r: ChildResult): void => {
    if (failure) return;
    failure = r;
    for (const f of live) f.proc.kill();
    settle(r);
  };

  /**
   * A frame's zstd. Its output goes on only once `before` (the previous frame's) has all gone on, so a cut spawns
   * the next zstd first and then closes the previous one: one is always running while the archive continues.
   */
  const open = (before: OpenFrame | null): OpenFrame => {
    const proc = watchChild('zstd', spawner(zstdPath, zstdArgs, { env, stdio: ['pipe', 'pipe', 'pipe'] }));
    proc.child.stdin!.on('error', () => undefined); // EPIPE when zstd dies: its exit status reports it
    const frame: OpenFrame = { proc, hash: createHash('sha256'), raw: 0, bytes: 0, rawStart: rawWritten, drained: Promise.resolve() };
    live.add(frame);
    const out = proc.child.stdout!;
    out.on('error', () => undefined); // a broken pipe: the exit status reports it
    frame.drained = (before?.drained ?? Promise.resolve()).then(
      () =>
        new Promise<void>((resolve) => {
          out.on('data', (c: Buffer) => {
            frame.hash.update(c);
            frame.bytes += c.length;
            // Once the output is gone (the upload failed) or the run was stopped, zstd's bytes are dropped: a
            // paused stdout would keep the child's 'close', and so its exit status, from ever coming.
            if (stopped() || output.write(c)) return;
            out.pause();
            const go = (): void => {
              output.off('drain', go);
              output.off('close', go);
              out.resume();
            };
            output.on('drain', go);
            output.on('close', go);
          });
          out.once('end', resolve);
          out.once('error', () => resolve());
          if (stopped()) out.resume();
        }),
    );
    void proc.done.then((r) => {
      live.delete(frame);
      if (!childSucceeded(r)) fail(r);
    });
    if (killed) {
      out.resume();
      proc.kill();
    }
    return frame;
  };

  const close = async (f: OpenFrame): Promise<void> => {
    f.proc.child.stdin!.end();
    const [r] = await Promise.all([f.proc.done, f.drained]);
    last = r;
    if (!childSucceeded(r)) return fail(r);
    frames.push({ rawStart: f.rawStart, rawBytes: f.raw, bytes: f.bytes, sha256: f.hash.digest('hex'), blocks: [] });
  };

  const write = async (piece: Buffer): Promise<void> => {
    if (!piece.length || failure || killed) return;
    if (cutBeforeNext && current) {
      cutBeforeNext = false;
      const previous = current;
      current = open(previous);
      await close(previous);
      if (failure) return;
    }
    current ??= open(null);
    const f = current;
    f.raw += piece.length;
    rawWritten += piece.length;
    const stdin = f.proc.child.stdin!;
    if (stdin.destroyed || stdin.write(piece)) return;
    await drainOrClose(stdin);
  };

  const startData = async (buf: Buffer, h: ArchiveHead): Promise<void> => {
    head = h;
    scanner = new BlockScanner(h);
    mode = 'data';
    await write(buf.subarray(0, h.dataStart));
    cutBeforeNext = true;
    await writeData(buf.subarray(h.dataStart));
  };

  /** The data section: cut before a block when the frame is big enough. */
  const writeData = async (chunk: Buffer): Promise<void> => {
    if (!chunk.length) return;
    let starts: number[];
    try {
      starts = scanner!.scan(chunk);
    } catch (e) {
      if (!(e instanceof ArchiveFormatError)) throw e;
      mode = 'plain';
      cutBeforeNext = false;
      return write(chunk);
    }
    const base = rawWritten;
    let from = 0;
    for (const at of starts) {
      await write(chunk.subarray(from, at - base));
      from = at - base;
      const size = current?.raw ?? 0;
      if (size > 0 && (frameMin === 0 || size >= Math.max(frameMin, rawWritten / 64))) cutBeforeNext = true;
    }
    await write(chunk.subarray(from));
  };

  /** The header and TOC, buffered until they parse. */
  const tryHead = async (atEnd: boolean): Promise<void> => {
    if (!atEnd && pendingBytes < nextParseAt && pendingBytes < HEAD_BUFFER_MAX) return;
    nextParseAt = pendingBytes < 1 << 20 ? 0 : pendingBytes * 2;
    const buf = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    let h: ArchiveHead | null = null;
    let unreadable = false;
    try {
      h = parseArchiveHead(buf);
    } catch (e) {
      if (!(e instanceof ArchiveFormatError)) throw e;
      unreadable = true;
    }
    if (h) return startData(buf, h);
    if (!atEnd && !unreadable && buf.length < HEAD_BUFFER_MAX) {
      pending = [buf];
      pendingBytes = buf.length;
      return;
    }
    mode = 'plain';
    await write(buf);
  };

  const input = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      if (failure) return cb();
      const step = mode === 'head' ? (pending.push(chunk), (pendingBytes += chunk.length), tryHead(false)) : mode === 'data' ? writeData(chunk) : write(chunk);
      step.then(() => cb(), (e: unknown) => (unexpected(e), cb()));
    },
    final(cb) {
      (async (): Promise<void> => {
        if (mode === 'head' && !failure) await tryHead(true);
        if (mode === 'data' && scanner) {
          try {
            blocks = scanner.finish();
          } catch (e) {
            if (!(e instanceof ArchiveFormatError)) throw e;
            mode = 'plain';
          }
        }
        if (!failure && !killed) {
          current ??= open(null); // an empty input is still one (empty) zstd frame
          cutBeforeNext = false;
          const f = current;
          current = null;
          await close(f);
        }
        output.end();
        if (killed && !failure) {
          // Stopped from outside: not a success, whatever the frames before said; settled once every zstd is gone.
          await Promise.all([...live].map((f) => f.proc.done));
          failure = { name: 'zstd', code: null, signal: 'SIGTERM', stderr: 'stopped with the backup' };
        }
        settle(failure ?? last!);
      })().then(() => cb(), (e: unknown) => (unexpected(e), output.end(), cb()));
    },
  });

  /** A bug here must fail the backup through `done`, not crash the process from a stream nobody listens to. */
  const unexpected = (e: unknown): void => {
    fail({ name: 'zstd', code: null, signal: null, stderr: `framing failed: ${(e as Error).message}` });
  };

  return {
    input,
    output,
    done,
    index() {
      if (mode !== 'data' || failure || !head || frames[0]?.rawBytes !== head.dataStart) return null;
      const out = frames.map((f) => ({ rawBytes: f.rawBytes, bytes: f.bytes, sha256: f.sha256, blocks: [] as number[] }));
      let k = 0;
      for (const b of blocks) {
        while (k < frames.length && b.offset >= frames[k]!.rawStart + frames[k]!.rawBytes) k++;
        if (k === frames.length || b.offset < frames[k]!.rawStart) return null;
        out[k]!.blocks.push(b.id);
      }
      return out;
    },
    kill() {
      killed = true;
      for (const f of live) {
        f.proc.child.stdout?.resume();
        f.proc.kill();
      }
    },
  };
}
