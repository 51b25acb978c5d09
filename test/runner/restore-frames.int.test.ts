/**
 * The payload's frames in a streamed restore (runner/restore/stream.ts, payload/frames.ts) against a real server:
 * what the frames hold, each stream fetching only its own, a corrupt or cut-short payload caught with nothing
 * left, manifests without frames, and encrypted payloads read by frames.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PgCluster } from '../harness/postgres';
import { finalEvent, runCli } from './cli-harness';
import { assertSameAsSource, FRAME_PER_TABLE, startStreamSource } from './stream-source';
import { resolveBackup, type CompleteBackup } from '../../runner/catalog/catalog';
import { restoreBackup } from '../../runner/commands/restore';
import { silentLogger } from '../../runner/log';
import { parseDatabaseUrl } from '../../runner/pg/connection';
import { LocalStorage } from '../../runner/storage/local';
import type { ByteRange } from '../../runner/storage/types';

let pg: PgCluster;
let storage: string;
let id: string;

before(async () => {
  ({ pg, storage, id } = await startStreamSource());
});
after(async () => {
  await pg?.stop();
  if (storage) rmSync(storage, { recursive: true, force: true });
});

test("the backup's frames: the head is the archive up to its first data block, each frame decompresses alone, their blocks are the TOC's data entries", async () => {
  const store = new LocalStorage(storage);
  const backup = await resolveBackup(store, id, { engine: 'postgres' });
  const frames = backup.manifest.payload.frames!;
  assert.ok(frames.length >= 4, `${frames.length} frames`);
  const payload = await store.getBytes(backup.payloadKey);
  const whole = execFileSync('zstd', ['-d', '-q', '-c'], { input: payload, maxBuffer: 1 << 30 });
  assert.equal(whole.length, backup.manifest.payload.rawBytes);
  let at = 0;
  let raw = 0;
  for (const f of frames) {
    const part = execFileSync('zstd', ['-d', '-q', '-c'], { input: payload.subarray(at, at + f.bytes), maxBuffer: 1 << 30 });
    assert.ok(part.equals(whole.subarray(raw, raw + f.rawBytes)));
    at += f.bytes;
    raw += f.rawBytes;
  }
  assert.equal(at, payload.length);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-frames-'));
  try {
    writeFileSync(path.join(dir, 'a.pgc'), whole);
    const list = execFileSync(path.join(pg.binDir, 'pg_restore'), ['--list', path.join(dir, 'a.pgc')], { encoding: 'utf8' });
    const data = list.split('\n').filter((l) => / (TABLE DATA|BLOBS) /.test(l)).map((l) => Number(l.split(';')[0]));
    assert.deepEqual(frames.flatMap((f) => f.blocks).sort(), data.sort());
    assert.deepEqual(frames[0]!.blocks, []);
    // The head alone lists: it is the whole header and TOC.
    writeFileSync(path.join(dir, 'head.pgc'), whole.subarray(0, frames[0]!.rawBytes));
    assert.equal(execFileSync(path.join(pg.binDir, 'pg_restore'), ['--list', path.join(dir, 'head.pgc')], { encoding: 'utf8' }), list);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A local storage that counts the payload's bytes read: whole, by range, and by positional reads (Storage.open). */
function countingStorage(root: string): { store: LocalStorage; read: { whole: number; ranged: number; positional: number } } {
  const local = new LocalStorage(root);
  const read = { whole: 0, ranged: 0, positional: 0 };
  const store = Object.assign(Object.create(local) as LocalStorage, {
    get: async (key: string, range?: ByteRange) => {
      const s = await local.get(key, range);
      if (/\/dump\.pgc/.test(key)) s.on('data', (c: Buffer) => (range ? (read.ranged += c.length) : (read.whole += c.length)));
      return s;
    },
    open: async (key: string) => {
      const r = await local.open(key);
      return {
        size: r.size,
        read: async (into: Buffer, length: number, position: number) => {
          const n = await r.read(into, length, position);
          if (/\/dump\.pgc/.test(key)) read.positional += n;
          return n;
        },
        close: () => r.close(),
      };
    },
  });
  return { store, read };
}

test('each stream fetches only its own frames: the payload is read exactly once in all (the head once, kept in memory for every stream)', async () => {
  const { store, read } = countingStorage(storage);
  const ctx = { env: process.env, logger: silentLogger(), signal: new AbortController().signal, stderr: { write: () => true } };
  const r = await restoreBackup({ storage: store, ref: id, target: parseDatabaseUrl(pg.url('wide_frames')), create: true, jobs: 3 }, { ctx });
  assert.equal(r.ok, true);
  const backup = await resolveBackup(store, id, { engine: 'postgres' });
  assert.equal(read.whole, 0, 'no stream read the whole payload');
  // From a folder, the head and every frame by positional reads into reused buffers (Storage.open), each once.
  assert.equal(read.ranged, 0);
  assert.equal(read.positional, backup.manifest.payload.storedBytes);
  await assertSameAsSource(pg, 'wide_frames');
});

/**
 * Runs `fn` on a copy of the test storage (to corrupt or rewrite), with the wide backup resolved in it and the
 * path of its payload file; the copy is removed afterwards.
 */
async function onCopy(fn: (copy: { root: string; store: LocalStorage; backup: CompleteBackup; file: string }) => Promise<void>): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-frames-copy-'));
  try {
    cpSync(storage, root, { recursive: true });
    const store = new LocalStorage(root);
    const backup = await resolveBackup(store, id, { engine: 'postgres' });
    await fn({ root, store, backup, file: path.join(root, ...backup.payloadKey.split('/')) });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('a corrupt frame fails its stream with checksum_mismatch naming the frame; the created database is dropped', async () => {
  await onCopy(async ({ root, backup, file }) => {
    const frames = backup.manifest.payload.frames!;
    const k = frames.findIndex((f) => f.blocks.length > 0 && f.bytes > 64);
    const offset = frames.slice(0, k).reduce((a, f) => a + f.bytes, 0) + Math.floor(frames[k]!.bytes / 2);
    const bytes = readFileSync(file);
    bytes[offset] ^= 0x20;
    writeFileSync(file, bytes);
    const r = await runCli(['restore', id, '--storage', root, '--target-url', pg.url('wide_corrupt'), '--create', '--jobs', '2', '--json']);
    assert.equal(r.code, 1, r.stderr);
    const end = finalEvent(r.stderr)!;
    assert.equal(end.errorCode, 'checksum_mismatch');
    assert.match(String(end.message), new RegExp(`\\(frame ${k} of ${frames.length}\\)`));
    assert.deepEqual(await pg.query(`SELECT 1 FROM pg_database WHERE datname = 'wide_corrupt'`), []);
  });
});

test('a payload cut short: the stream that reads past its end fails with checksum_mismatch, not a read error; nothing is left', async () => {
  await onCopy(async ({ root, file }) => {
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 1000));
    const r = await runCli(['restore', id, '--storage', root, '--target-url', pg.url('wide_short'), '--create', '--jobs', '2', '--json']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(finalEvent(r.stderr)!.errorCode, 'checksum_mismatch');
    assert.deepEqual(await pg.query(`SELECT 1 FROM pg_database WHERE datname = 'wide_short'`), []);
  });
});

test('a manifest without frames (an older backup): each stream reads the whole payload, and the restore is the same', async () => {
  await onCopy(async ({ root, store, backup }) => {
    const manifest = JSON.parse((await store.getBytes(backup.manifestKey)).toString()) as { payload: { frames?: unknown } };
    delete manifest.payload.frames;
    await store.putBytes(backup.manifestKey, JSON.stringify(manifest, null, 2));
    const r = await runCli(['restore', id, '--storage', root, '--target-url', pg.url('wide_frameless'), '--create', '--jobs', '2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /2 data streams each reading all of the payload/);
    await assertSameAsSource(pg, 'wide_frameless');
  });
});

test('an encrypted payload is read by frames too: each decrypted from the chunk holding its first byte; a tampered chunk fails and leaves nothing', async () => {
  const age = await import('age-encryption');
  const identity = await age.generateX25519Identity();
  const recipient = await age.identityToRecipient(identity);
  const own = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-frames-age-'));
  try {
    const b = await runCli(['backup', '--storage', own, '--database-url', pg.url('wide'), '--class', 'manual', '--encrypt-to', recipient, '--json'], FRAME_PER_TABLE);
    assert.equal(b.code, 0, b.stderr);
    const ageId = (JSON.parse(b.stdout) as { id: string }).id;
    const { store, read } = countingStorage(own);
    const ctx = { env: process.env, logger: silentLogger(), signal: new AbortController().signal, stderr: { write: () => true } };
    const r = await restoreBackup({ storage: store, ref: ageId, target: parseDatabaseUrl(pg.url('wide_age')), create: true, jobs: 3, identityText: identity }, { ctx });
    assert.equal(r.ok, true);
    await assertSameAsSource(pg, 'wide_age');
    const backup = await resolveBackup(store, ageId, { engine: 'postgres' });
    const { storedBytes, frames } = backup.manifest.payload;
    assert.equal(read.whole, 0, 'no stream read the whole payload');
    assert.equal(read.positional, 0, 'frames to decrypt are read by range');
    // The header read, then every frame once; a frame's first and last 64 KiB chunks may be read twice.
    assert.ok(read.ranged >= storedBytes && read.ranged <= storedBytes + (64 << 10) + frames!.length * 2 * ((64 << 10) + 16), `${read.ranged} bytes read of ${storedBytes}`);

    const file = path.join(own, ...backup.payloadKey.split('/'));
    const bytes = readFileSync(file);
    bytes[bytes.length - 5000] ^= 0x01;
    writeFileSync(file, bytes);
    const restoreBad = () => runCli(['restore', ageId, '--storage', own, '--target-url', pg.url('wide_age_bad'), '--create', '--jobs', '2', '--json'], { LIFEBOAT_AGE_IDENTITY: identity });
    // The stored bytes' checksum names the corruption first, as on the other paths.
    const bad = await restoreBad();
    assert.equal(bad.code, 1, bad.stderr);
    assert.equal(finalEvent(bad.stderr)!.errorCode, 'checksum_mismatch');
    assert.deepEqual(await pg.query(`SELECT 1 FROM pg_database WHERE datname = 'wide_age_bad'`), []);
    // With the manifest's checksum rewritten to match, authentication of the chunk still refuses it.
    const manifest = JSON.parse((await store.getBytes(backup.manifestKey)).toString()) as { payload: { sha256: string } };
    manifest.payload.sha256 = createHash('sha256').update(bytes).digest('hex');
    await store.putBytes(backup.manifestKey, JSON.stringify(manifest, null, 2));
    const forged = await restoreBad();
    assert.equal(forged.code, 1, forged.stderr);
    assert.equal(finalEvent(forged.stderr)!.errorCode, 'decrypt_failed');
    assert.deepEqual(await pg.query(`SELECT 1 FROM pg_database WHERE datname = 'wide_age_bad'`), []);
  } finally {
    rmSync(own, { recursive: true, force: true });
  }
});
