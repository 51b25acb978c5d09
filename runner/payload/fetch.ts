/**
 * Getting a backup's archive back out of storage, proven intact:
 *
 *   storage ─▶ sha256 ─▶ [age decrypt] ─▶ zstd -d ─▶ a local temp file (pg_restore -j needs a seekable file)
 *
 * fetchArchive(backup, storage, opts, deps) → { file, dir, cleanup }: resolves only when the sha256 of the
 * stored bytes equals the manifest's and the decompressor exited cleanly (with checkFrames, and the manifest's
 * frame index matches the payload). A mismatch is reported first (it
 * explains any decompression error) and names the object and both checksums. The temp folder (LIFEBOAT_TMPDIR
 * or the OS temp dir) is removed on failure; on success the caller calls cleanup(), in a finally.
 *
 * loadIdentity(path): reads an age identity file for encrypted payloads.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Duplex, Readable, Writable } from 'node:stream';
import type { CompleteBackup } from '../catalog/catalog';
import type { RunContext } from '../context';
import { createDecryptor, identityFingerprints } from '../crypto/age';
import { isLifeboatError, runtimeError } from '../errors';
import { childStdin } from '../pipeline/child-stdin';
import { HashingStream } from '../pipeline/hash';
import { createProgress } from '../pipeline/progress';
import { childSucceeded, defaultSpawner, describeChildFailure, watchChild, type Spawner } from '../pipeline/spawn';
import { transientChunks } from '../storage/transient-chunks';
import type { Storage } from '../storage/types';
import { makeTempDir } from '../pipeline/temp-dir';
import { FrameIndexCheck } from './frames';
import { findZstd } from './zstd';

export interface FetchOptions {
  /** Text of an age identity file; required when the payload is encrypted. */
  identityText?: string;
  /** Label of the progress line (restore, verify). */
  label?: string;
  /** Also check the manifest's frame index against the payload (verify): a wrong one fails with frames_mismatch. */
  checkFrames?: boolean;
}

export interface FetchDeps {
  ctx: Pick<RunContext, 'env' | 'signal' | 'stderr'>;
  spawner?: Spawner;
}

export interface FetchedArchive {
  file: string;
  cleanup(): Promise<void>;
}

export async function loadIdentity(file: string | undefined): Promise<string | undefined> {
  if (!file) return undefined;
  try {
    return await fs.readFile(file, 'utf8');
  } catch (e) {
    // Exit 1, as for every identity problem (missing, unreadable or wrong), though a bad path is bad input.
    throw runtimeError('identity_unreadable', `--identity-file ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
      'Point --identity-file (or LIFEBOAT_AGE_IDENTITY_FILE) at a readable age identity file, or pass the identity in LIFEBOAT_AGE_IDENTITY');
  }
}

/**
 * Refuses an encrypted payload without an identity. Exit 1, not 2, for a missing identity as for a wrong one:
 * a job whose key secret is not mounted yet may well succeed on its retry.
 */
export function requireIdentityFor(backup: CompleteBackup, identityText: string | undefined): void {
  if (backup.manifest.payload.encryption && !identityText) {
    throw runtimeError(
      'identity_missing',
      `backup ${backup.id} is encrypted with age; --identity-file (or LIFEBOAT_AGE_IDENTITY_FILE, or the identity itself in LIFEBOAT_AGE_IDENTITY) is needed to read it`,
    );
  }
}

export async function fetchArchive(backup: CompleteBackup, storage: Storage, opts: FetchOptions, deps: FetchDeps): Promise<FetchedArchive> {
  const { ctx } = deps;
  const spawner = deps.spawner ?? defaultSpawner;
  requireIdentityFor(backup, opts.identityText);
  const zstd = await findZstd();
  const { dir, cleanup } = await makeTempDir(ctx.env, 'lifeboat-restore-', 'the archive');
  const file = path.join(dir, 'archive.pgc');
  const objectUrl = `${storage.url}/${backup.payloadKey}`;
  let stored: Readable | null = null;
  let chunks: AsyncGenerator<Buffer> | null = null;
  try {
    const decryptor = await openDecryptor(backup, opts.identityText, objectUrl);
    // An age payload goes through the decryptor's stream; a plain one chunk by chunk (feedPlain says why). Either
    // way the object is opened here: a missing one fails before zstd starts.
    if (decryptor) stored = await storage.get(backup.payloadKey);
    else chunks = transientChunks(storage, backup.payloadKey);
    const first = await chunks?.next();
    const progress = createProgress(ctx.stderr, opts.label ?? 'download', backup.manifest.payload.storedBytes);
    // zstd writes the archive itself: the decompressed bytes (4x the stored ones) never pass through node, whose
    // stream copies cost about 2 s of CPU per GiB (restore of the 1.19 GiB bench dataset: fetch 3.2 -> 1.3 s).
    let out: fs.FileHandle;
    try {
      out = await fs.open(file, 'wx');
    } catch (e) {
      throw runtimeError('tmpdir_unwritable', `cannot create the archive file in ${dir} (${(e as NodeJS.ErrnoException).code})`, 'Set LIFEBOAT_TMPDIR to a writable folder with room for the archive');
    }
    let dec: ReturnType<typeof watchChild>;
    try {
      dec = watchChild('zstd', spawner(zstd.path, ['-d', '-q', '-c'], { env: ctx.env, stdio: ['pipe', out.fd, 'pipe'] }));
    } finally {
      await out.close(); // the child holds its own copy of the descriptor
    }
    const onAbort = (): void => dec.kill();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const frames = opts.checkFrames && backup.manifest.payload.frames ? new FrameIndexCheck(backup.manifest.payload.frames) : null;
      let digest: StoredDigest | null = null;
      let feed: Promise<unknown>;
      if (chunks) {
        feed = feedPlain(chunks, first!, dec.child.stdin!, frames, progress, ctx.signal).then((r) => {
          digest = r.digest;
          return r.error;
        });
      } else {
        const hasher = new HashingStream();
        hasher.on('data', () => progress.update(hasher.bytes));
        digest = hasher;
        const stages: (Readable | Writable | NodeJS.ReadWriteStream)[] = [stored!, hasher, decryptor!];
        if (frames) stages.push(frames);
        stages.push(dec.child.stdin!);
        feed = pipeline(stages as unknown as [Readable, Writable], { signal: ctx.signal }).then(
          () => null,
          (e: unknown) => e,
        );
      }
      const [feedError, result] = await Promise.all([feed, dec.done]);
      progress.done();
      if (ctx.signal.aborted) throw runtimeError('interrupted', 'interrupted while reading the backup');
      // A plain payload's feed fails only when reading does: that is its own explanation (reading it all again for
      // the checksum would most likely fail the same way), as in restore/stream.ts.
      if (chunks && feedError) throw runtimeError('read_failed', `reading ${objectUrl} failed: ${(feedError as Error).message}`);
      // The checksum first: a corrupted payload explains every later error.
      await verifyStoredBytes(backup, storage, digest, objectUrl);
      // A full disk kills zstd first; the decryptor then only sees a broken pipe, which is not a key problem.
      if (!childSucceeded(result) && /write error|no space left|disk quota/i.test(result.stderr)) {
        throw runtimeError('tmpdir_unwritable', `writing the archive to ${dir} failed: ${describeChildFailure(result)}`, 'Set LIFEBOAT_TMPDIR to a folder with room');
      }
      if (decryptor && feedError) throw decryptFailure(feedError, objectUrl);
      if (!childSucceeded(result)) throw runtimeError('decompress_failed', `${objectUrl}: ${describeChildFailure(result)}`);
      if (feedError) throw runtimeError('read_failed', `reading ${objectUrl} failed: ${(feedError as Error).message}`);
      const rawBytes = (await fs.stat(file)).size;
      if (rawBytes !== backup.manifest.payload.rawBytes) {
        throw runtimeError('checksum_mismatch', `${objectUrl} decompressed to ${rawBytes} bytes, the manifest says ${backup.manifest.payload.rawBytes}`);
      }
      const wrongIndex = frames?.mismatch();
      if (wrongIndex) {
        throw runtimeError(
          'frames_mismatch',
          `the frame index in the manifest of ${objectUrl} does not match its payload (${wrongIndex}); the payload itself is intact`,
          'Restores with --create and drills read by frames and would fail; a restore into an existing empty database reads the payload whole',
        );
      }
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
    return { file, cleanup };
  } catch (e) {
    // Not read to the end (a temp file that could not be made, say): the object is closed.
    stored?.destroy();
    await chunks?.return(undefined).catch(() => undefined);
    await cleanup();
    throw e;
  }
}

/** sha256 and size of the stored bytes as read; HashingStream's throws until its stream has ended. */
interface StoredDigest {
  readonly sha256: string;
  readonly bytes: number;
}

/**
 * A plain payload into zstd's stdin, chunk by chunk: each is hashed, checked against the frame index and written,
 * and the next handed on once the pipe has taken it (transientChunks: from a folder, two buffers reused, the next
 * read running meanwhile). Through stream stages instead, on Node 26, a restore into an existing database of the
 * 4x bench dataset took node to 139 MiB, and kept it there while pg_restore ran; this way, 74 MiB.
 * The digest is null when the reading stopped early (the caller then rehashes the object).
 */
async function feedPlain(
  chunks: AsyncGenerator<Buffer>,
  first: IteratorResult<Buffer>,
  stdinStream: Writable,
  frames: FrameIndexCheck | null,
  progress: { update(bytes: number): void },
  signal: AbortSignal,
): Promise<{ error: unknown; digest: StoredDigest | null }> {
  const stdin = childStdin(stdinStream);
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for (let r = first; !r.done; r = await chunks.next()) {
      signal.throwIfAborted();
      hash.update(r.value);
      bytes += r.value.length;
      progress.update(bytes);
      frames?.update(r.value);
      await stdin.write(r.value);
    }
    frames?.finish();
    stdin.end();
    return { error: null, digest: { sha256: hash.digest('hex'), bytes } };
  } catch (e) {
    stdin.abort();
    return { error: e, digest: null };
  } finally {
    // Stopped between chunks: the object is closed.
    await chunks.return(undefined).catch(() => undefined);
  }
}

/**
 * The age decryptor for an encrypted payload, null for a plain one. A wrong key is known from the manifest
 * alone: it fails here, before downloading what may be many gigabytes.
 */
export async function openDecryptor(backup: CompleteBackup, identityText: string | undefined, objectUrl: string): Promise<Duplex | null> {
  const encryption = backup.manifest.payload.encryption;
  if (!encryption) return null;
  requireIdentityFor(backup, identityText);
  const mine = await identityFingerprints(identityText!);
  if (!mine.some((f) => encryption.recipients.includes(f))) {
    throw runtimeError(
      'decrypt_wrong_identity',
      `none of the keys in the age identity file can decrypt ${objectUrl}: it was encrypted to ${encryption.recipients.join(', ')}, the identity holds ${mine.join(', ') || 'no X25519 key'}`,
      'Use the identity (--identity-file or LIFEBOAT_AGE_IDENTITY) of one of those recipients',
    );
  }
  return createDecryptor(identityText!);
}

/**
 * The stored bytes against the manifest's sha256 and size. `hasher` saw them on the way in; when its stream
 * stopped early (a decompressor or pg_restore gave up on bad input), or there is none, the whole object is read
 * again and hashed.
 */
export async function verifyStoredBytes(backup: CompleteBackup, storage: Storage, hasher: StoredDigest | null, objectUrl: string): Promise<void> {
  let actual: string;
  let storedBytes: number;
  try {
    if (!hasher) throw new Error('not hashed on the way in');
    actual = hasher.sha256;
    storedBytes = hasher.bytes;
  } catch {
    ({ sha256: actual, bytes: storedBytes } = await hashObject(storage, backup.payloadKey));
  }
  const expected = backup.manifest.payload.sha256;
  if (actual !== expected) {
    throw runtimeError(
      'checksum_mismatch',
      `checksum mismatch for ${objectUrl}: manifest says sha256 ${expected}, stored bytes hash to ${actual}`,
      'The stored payload is corrupt: restore another backup (lifeboat list)',
    );
  }
  if (storedBytes !== backup.manifest.payload.storedBytes) {
    throw runtimeError('checksum_mismatch', `${objectUrl} has ${storedBytes} bytes, the manifest says ${backup.manifest.payload.storedBytes}`);
  }
}

/** A decryptor's failure, keeping its own code and hint (wrong identity, truncated, tampered): each calls for a different fix. */
export function decryptFailure(feedError: unknown, objectUrl: string): Error {
  const code = isLifeboatError(feedError) ? feedError.code : 'decrypt_failed';
  const hint = isLifeboatError(feedError) ? feedError.hint : 'Check the identity matches one of the recipients';
  return runtimeError(code, `cannot decrypt ${objectUrl}: ${(feedError as Error).message}`, hint, feedError);
}

/** sha256 and size of a stored object, read whole. */
export async function hashObject(storage: Storage, key: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of transientChunks(storage, key)) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}
