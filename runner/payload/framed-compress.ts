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
import { createReadStream } from 'node:fs';
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

/** A frame compressed elsewhere (payload/table-copy.ts), to follow the archive's own frames. */
export interface TailFrame {
  /** A file holding exactly one or more whole zstd frames. */
  path: string;
  rawBytes: number;
  /** The data blocks that start (and end) in it: dumpId and offset in its raw bytes. */
  blocks: { id: number; offset: number }[];
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
  /** The archive's bytes so far (its tail included): the uncompressed size of the payload, once `done`. */
  rawBytes(): number;
  kill(): void;
}

/**
 * `tail`: frames to append once the input has ended and its last frame is closed (the pieced tables' blocks of
 * `backup --jobs`, after pg_dump's last block); it may still be running when the input ends, and a rejection
 * fails the compression.
 */
export function createFramedCompressor(
  spawner: Spawner,
  zstdPath: string,
  zstdArgs: readonly string[],
  env: NodeJS.ProcessEnv,
  frameMin = FRAME_MIN,
  tail?: () => Promise<readonly TailFrame[]>,
): FramedCompressor {
  return new FramedCompression({ spawner, zstdPath, zstdArgs, env, frameMin, tail });
}

interface CompressionOptions {
  spawner: Spawner;
  zstdPath: string;
  zstdArgs: readonly string[];
  env: NodeJS.ProcessEnv;
  frameMin: number;
  tail?: () => Promise<readonly TailFrame[]>;
}

/**
 * One run of the framed compressor. Its steps: the archive's head is buffered until it parses (acceptHead), the
 * data section is cut before blocks (acceptData), every piece goes to the current frame's zstd (writeToFrame), a
 * cut spawns the next zstd and closes the previous (openFrame, closeFrame), and the end closes the last (finish).
 */
class FramedCompression implements FramedCompressor {
  readonly input: Writable;
  readonly output = new PassThrough({ highWaterMark: 1 << 20 });
  readonly done: Promise<ChildResult>;
  private settle: (r: ChildResult) => void = () => undefined;
  private readonly frames: (PayloadFrame & { rawStart: number })[] = [];
  private mode: 'head' | 'data' | 'plain' = 'head';
  private head: ArchiveHead | null = null;
  private scanner: BlockScanner | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  // Tried on every chunk up to 1 MiB (the TOC of most databases: its frame's zstd starts as soon as it is whole,
  // even when the dump then stalls), then whenever the buffered bytes have doubled (each try starts over).
  private nextParseAt = 0;
  private rawWritten = 0;
  private current: OpenFrame | null = null;
  private cutBeforeNext = false;
  /** The data blocks, once the scan has checked them against the TOC at the end. */
  private blocks: DataBlock[] = [];
  private failure: ChildResult | null = null;
  private last: ChildResult | null = null;
  private killed = false;
  /** Every zstd not yet exited, the one being closed included: what kill() and a lost output must reach. */
  private readonly live = new Set<OpenFrame>();

  constructor(private readonly opts: CompressionOptions) {
    this.done = new Promise<ChildResult>((resolve) => {
      this.settle = resolve;
    });
    this.output.once('close', () => {
      for (const f of this.live) f.proc.child.stdout?.resume();
    });
    this.input = new Writable({
      highWaterMark: 1 << 20,
      write: (chunk: Buffer, _enc, cb) => {
        if (this.failure) return cb();
        this.accept(chunk).then(
          () => cb(),
          (e: unknown) => (this.unexpected(e), cb()),
        );
      },
      final: (cb) => {
        this.finish().then(
          () => cb(),
          (e: unknown) => (this.unexpected(e), this.output.end(), cb()),
        );
      },
    });
  }

  /** The frames, once `done` succeeded; null when the archive was not scanned (one frame, no index). */
  readonly index = (): PayloadFrame[] | null => {
    if (this.mode !== 'data' || this.failure || !this.head || this.frames[0]?.rawBytes !== this.head.dataStart) return null;
    const out = this.frames.map((f) => ({ rawBytes: f.rawBytes, bytes: f.bytes, sha256: f.sha256, blocks: [] as number[] }));
    let k = 0;
    for (const b of this.blocks) {
      while (k < this.frames.length && b.offset >= this.frames[k]!.rawStart + this.frames[k]!.rawBytes) k++;
      if (k === this.frames.length || b.offset < this.frames[k]!.rawStart) return null;
      out[k]!.blocks.push(b.id);
    }
    return out;
  };

  readonly rawBytes = (): number => this.rawWritten;

  readonly kill = (): void => {
    this.killed = true;
    for (const f of this.live) {
      f.proc.child.stdout?.resume();
      f.proc.kill();
    }
  };

  private stopped(): boolean {
    return this.killed || this.failure !== null || this.output.destroyed;
  }

  private fail(r: ChildResult): void {
    if (this.failure) return;
    this.failure = r;
    for (const f of this.live) f.proc.kill();
    this.settle(r);
  }

  /** A bug here must fail the backup through `done`, not crash the process from a stream nobody listens to. */
  private unexpected(e: unknown): void {
    this.fail({ name: 'zstd', code: null, signal: null, stderr: `framing failed: ${(e as Error).message}` });
  }

  /** A chunk of the archive, by where the archive is: in its head, its data section, or unscannable. */
  private accept(chunk: Buffer): Promise<void> {
    if (this.mode === 'head') {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      return this.acceptHead(false);
    }
    return this.mode === 'data' ? this.acceptData(chunk) : this.writeToFrame(chunk);
  }

  /**
   * A frame's zstd. Its output goes on only once `before` (the previous frame's) has all gone on, so a cut spawns
   * the next zstd first and then closes the previous one: one is always running while the archive continues.
   */
  private openFrame(before: OpenFrame | null): OpenFrame {
    const { spawner, zstdPath, zstdArgs, env } = this.opts;
    const proc = watchChild('zstd', spawner(zstdPath, zstdArgs, { env, stdio: ['pipe', 'pipe', 'pipe'] }));
    proc.child.stdin!.on('error', () => undefined); // EPIPE when zstd dies: its exit status reports it
    const frame: OpenFrame = { proc, hash: createHash('sha256'), raw: 0, bytes: 0, rawStart: this.rawWritten, drained: Promise.resolve() };
    this.live.add(frame);
    const out = proc.child.stdout!;
    out.on('error', () => undefined); // a broken pipe: the exit status reports it
    frame.drained = (before?.drained ?? Promise.resolve()).then(() => this.passOn(frame, out));
    void proc.done.then((r) => {
      this.live.delete(frame);
      if (!childSucceeded(r)) this.fail(r);
    });
    if (this.killed) {
      out.resume();
      proc.kill();
    }
    return frame;
  }

  /** A frame's compressed bytes into the output, hashed and counted, with backpressure; resolves at their end. */
  private passOn(frame: Pick<OpenFrame, 'hash' | 'bytes'>, out: Readable): Promise<void> {
    return new Promise<void>((resolve) => {
      out.on('data', (c: Buffer) => {
        frame.hash.update(c);
        frame.bytes += c.length;
        // Once the output is gone (the upload failed) or the run was stopped, zstd's bytes are dropped: a
        // paused stdout would keep the child's 'close', and so its exit status, from ever coming.
        if (this.stopped() || this.output.write(c)) return;
        out.pause();
        const go = (): void => {
          this.output.off('drain', go);
          this.output.off('close', go);
          out.resume();
        };
        this.output.on('drain', go);
        this.output.on('close', go);
      });
      out.once('end', resolve);
      out.once('error', () => resolve());
      if (this.stopped()) out.resume();
    });
  }

  private async closeFrame(f: OpenFrame): Promise<void> {
    f.proc.child.stdin!.end();
    const [r] = await Promise.all([f.proc.done, f.drained]);
    this.last = r;
    if (!childSucceeded(r)) return this.fail(r);
    this.frames.push({ rawStart: f.rawStart, rawBytes: f.raw, bytes: f.bytes, sha256: f.hash.digest('hex'), blocks: [] });
  }

  /** A piece of the archive into the current frame, after the cut a block start asked for. */
  private async writeToFrame(piece: Buffer): Promise<void> {
    if (!piece.length || this.failure || this.killed) return;
    if (this.cutBeforeNext && this.current) {
      this.cutBeforeNext = false;
      const previous = this.current;
      this.current = this.openFrame(previous);
      await this.closeFrame(previous);
      if (this.failure) return;
    }
    this.current ??= this.openFrame(null);
    const f = this.current;
    f.raw += piece.length;
    this.rawWritten += piece.length;
    const stdin = f.proc.child.stdin!;
    if (stdin.destroyed || stdin.write(piece)) return;
    await drainOrClose(stdin);
  }

  /** Frames compressed elsewhere, after the archive's own: passed on whole, hashed and counted, their blocks noted. */
  private async appendTail(tail: () => Promise<readonly TailFrame[]>): Promise<void> {
    let frames: readonly TailFrame[];
    try {
      frames = await tail();
    } catch (e) {
      return this.fail({ name: 'zstd', code: null, signal: null, stderr: `the frames to append failed: ${(e as Error).message}` });
    }
    for (const t of frames) {
      if (this.stopped()) return;
      const frame = { hash: createHash('sha256'), bytes: 0 };
      // Chunks of 64 KiB: 1 MiB ones, read faster than the upload takes them, are garbage the GC lets pile up.
      const file = createReadStream(t.path, { highWaterMark: 1 << 16 });
      const read = new Promise<void>((resolve, reject) => {
        file.once('error', reject);
        file.once('end', resolve);
      });
      await Promise.all([this.passOn(frame, file), read]).catch((e: unknown) => this.fail({ name: 'zstd', code: null, signal: null, stderr: `reading ${t.path} failed: ${(e as Error).message}` }));
      if (this.failure) return;
      for (const b of t.blocks) this.scanner?.addBlock(this.rawWritten + b.offset, b.id);
      this.frames.push({ rawStart: this.rawWritten, rawBytes: t.rawBytes, bytes: frame.bytes, sha256: frame.hash.digest('hex'), blocks: [] });
      this.rawWritten += t.rawBytes;
    }
  }

  /** The header and TOC, buffered until they parse; an archive whose head does not parse goes on unframed. */
  private async acceptHead(atEnd: boolean): Promise<void> {
    if (!atEnd && this.pendingBytes < this.nextParseAt && this.pendingBytes < HEAD_BUFFER_MAX) return;
    this.nextParseAt = this.pendingBytes < 1 << 20 ? 0 : this.pendingBytes * 2;
    const buf = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    let h: ArchiveHead | null = null;
    let unreadable = false;
    try {
      h = parseArchiveHead(buf);
    } catch (e) {
      if (!(e instanceof ArchiveFormatError)) throw e;
      unreadable = true;
    }
    if (h) return this.startData(buf, h);
    if (!atEnd && !unreadable && buf.length < HEAD_BUFFER_MAX) {
      this.pending = [buf];
      this.pendingBytes = buf.length;
      return;
    }
    this.mode = 'plain';
    await this.writeToFrame(buf);
  }

  /** The head is the first frame; the data section starts the next. */
  private async startData(buf: Buffer, h: ArchiveHead): Promise<void> {
    this.head = h;
    this.scanner = new BlockScanner(h);
    this.mode = 'data';
    await this.writeToFrame(buf.subarray(0, h.dataStart));
    this.cutBeforeNext = true;
    await this.acceptData(buf.subarray(h.dataStart));
  }

  /** The data section: cut before a block when the frame is big enough. */
  private async acceptData(chunk: Buffer): Promise<void> {
    if (!chunk.length) return;
    let starts: number[];
    try {
      starts = this.scanner!.scan(chunk);
    } catch (e) {
      if (!(e instanceof ArchiveFormatError)) throw e;
      this.mode = 'plain';
      this.cutBeforeNext = false;
      return this.writeToFrame(chunk);
    }
    const base = this.rawWritten;
    const { frameMin } = this.opts;
    let from = 0;
    for (const at of starts) {
      await this.writeToFrame(chunk.subarray(from, at - base));
      from = at - base;
      const size = this.current?.raw ?? 0;
      if (size > 0 && (frameMin === 0 || size >= Math.max(frameMin, this.rawWritten / 64))) this.cutBeforeNext = true;
    }
    await this.writeToFrame(chunk.subarray(from));
  }

  /** The archive's end: the last frame closed, the tail appended, the scan's check against the TOC, `done` settled. */
  private async finish(): Promise<void> {
    if (this.mode === 'head' && !this.failure) await this.acceptHead(true);
    if (!this.failure && !this.killed) {
      this.current ??= this.openFrame(null); // an empty input is still one (empty) zstd frame
      this.cutBeforeNext = false;
      const f = this.current;
      this.current = null;
      await this.closeFrame(f);
    }
    if (this.opts.tail && !this.failure && !this.killed) await this.appendTail(this.opts.tail);
    if (this.mode === 'data' && this.scanner) {
      try {
        this.blocks = this.scanner.finish();
      } catch (e) {
        if (!(e instanceof ArchiveFormatError)) throw e;
        this.mode = 'plain';
      }
    }
    this.output.end();
    if (this.killed && !this.failure) {
      // Stopped from outside: not a success, whatever the frames before said; settled once every zstd is gone.
      await Promise.all([...this.live].map((f) => f.proc.done));
      this.failure = { name: 'zstd', code: null, signal: 'SIGTERM', stderr: 'stopped with the backup' };
    }
    this.settle(this.failure ?? this.last!);
  }
}
