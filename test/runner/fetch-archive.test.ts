/**
 * fetchArchive against an in-memory store and a folder (read through Storage.open): zstd writes the decompressed
 * archive straight into the temp file, and every way that can go wrong (a full disk, a size that does not match
 * the manifest, a failed read, an interrupt) is reported as such, with the temp folder removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fetchArchive } from '../../runner/payload/fetch';
import { createEncryptor } from '../../runner/crypto/age';
import type { CompleteBackup } from '../../runner/catalog/catalog';
import type { RunContext } from '../../runner/context';
import { isLifeboatError } from '../../runner/errors';
import { silentLogger } from '../../runner/log';
import { defaultSpawner, type Spawner } from '../../runner/pipeline/spawn';
import type { Storage } from '../../runner/storage/types';

// Compressible but not trivial: a dump-like mix of repeated text and random bytes, 3 MiB.
const raw = Buffer.concat(Array.from({ length: 48 }, (_, i) => Buffer.concat([Buffer.from(`COPY public.t${i} (id, v) FROM stdin;\n`.repeat(900)), randomBytes(32 * 1024)])));
const stored = execFileSync('zstd', ['-q', '-c'], { input: raw, maxBuffer: 64 * 2 ** 20 });

function setup(manifest: Partial<{ rawBytes: number }> = {}, payload: Buffer = stored, encryption?: unknown): { backup: CompleteBackup; storage: Storage; ctx: RunContext; tmp: string } {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-fetch-'));
  const storage = { url: 'mem://bucket', get: async () => Readable.from([payload.subarray(0, 100_000), payload.subarray(100_000)]) } as unknown as Storage;
  const backup = {
    id: '20261121T020000Z-3f9a',
    payloadKey: 'daily/postgres/shop/20261121T020000Z-3f9a/dump.pgc.zst',
    manifest: { payload: { sha256: createHash('sha256').update(payload).digest('hex'), storedBytes: payload.length, rawBytes: raw.length, ...(encryption ? { encryption } : {}), ...manifest } },
  } as unknown as CompleteBackup;
  const sink = { write: () => true };
  const ctx: RunContext = { env: { PATH: process.env.PATH, LIFEBOAT_TMPDIR: tmp }, stdout: sink, stderr: sink, logger: silentLogger(), now: () => new Date(), signal: new AbortController().signal };
  return { backup, storage, ctx, tmp };
}

test('the archive is decompressed into a temp file byte for byte, and cleanup removes it', async () => {
  const { backup, storage, ctx, tmp } = setup();
  try {
    const a = await fetchArchive(backup, storage, {}, { ctx });
    assert.ok(readFileSync(a.file).equals(raw), 'the temp file holds the decompressed dump');
    await a.cleanup();
    assert.deepEqual(readdirSync(tmp), []);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

// zstd gets /dev/full instead of the archive file: every write fails with ENOSPC, as on a full LIFEBOAT_TMPDIR.
const fullDisk: Spawner = (file, args, opts) => {
  const fd = openSync('/dev/full', 'w');
  try {
    return defaultSpawner(file, args, { ...opts, stdio: ['pipe', fd, 'pipe'] });
  } finally {
    closeSync(fd);
  }
};

async function encrypted(): Promise<{ payload: Buffer; identity: string; encryption: unknown }> {
  const age = await import('age-encryption');
  const identity = await age.generateX25519Identity();
  const recipient = await age.identityToRecipient(identity);
  const enc = await createEncryptor([recipient]);
  const out: Buffer[] = [];
  enc.stream.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve) => enc.stream.on('end', resolve));
  enc.stream.end(stored);
  await done;
  return { payload: Buffer.concat(out), identity, encryption: { scheme: 'age', recipients: enc.fingerprints } };
}

for (const kind of ['plain', 'encrypted'] as const) {
  test(`a full temp disk is tmpdir_unwritable with a hint, not a corrupt backup or a wrong key, and leaves nothing behind (${kind})`, async () => {
    const e2 = kind === 'encrypted' ? await encrypted() : undefined;
    const { backup, storage, ctx, tmp } = setup({}, e2?.payload ?? stored, e2?.encryption);
    try {
      await assert.rejects(fetchArchive(backup, storage, { identityText: e2?.identity }, { ctx, spawner: fullDisk }), (e: unknown) => {
        assert.ok(isLifeboatError(e), String(e));
        assert.equal(e.code, 'tmpdir_unwritable');
        assert.match(e.message, /writing the archive to .*lifeboat-restore-.* failed: zstd exited with code \d+: .*No space left on device/);
        assert.match(e.hint ?? '', /LIFEBOAT_TMPDIR/);
        return true;
      });
      assert.deepEqual(readdirSync(tmp), [], 'the temp folder is removed');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

test('an archive that decompresses to another size than the manifest records is refused', async () => {
  const { backup, storage, ctx, tmp } = setup({ rawBytes: raw.length + 1 });
  try {
    await assert.rejects(fetchArchive(backup, storage, {}, { ctx }), (e: unknown) => {
      assert.ok(isLifeboatError(e) && e.code === 'checksum_mismatch' && e.exitCode === 1, String(e));
      assert.match(e.message, new RegExp(`mem://bucket/daily/postgres/shop/20261121T020000Z-3f9a/dump.pgc.zst decompressed to ${raw.length} bytes, the manifest says ${raw.length + 1}`));
      return true;
    });
    assert.deepEqual(readdirSync(tmp), [], 'the temp folder is removed');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

/** The payload in a folder (read through Storage.open), counting what is read and which files are open. */
async function folderSetup(onRead?: (position: number) => void) {
  const base = setup();
  const { LocalStorage } = await import('../../runner/storage/local');
  const root = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-fetch-folder-'));
  const local = new LocalStorage(root);
  await local.putBytes(base.backup.payloadKey, stored);
  const seen = { positional: 0, gets: 0, opened: 0, closed: 0 };
  const storage = Object.assign(Object.create(local) as Storage, {
    get: async (key: string) => {
      seen.gets++;
      return local.get(key);
    },
    open: async (key: string) => {
      const r = await local.open(key);
      seen.opened++;
      return {
        size: r.size,
        read: async (into: Buffer, length: number, position: number) => {
          onRead?.(position);
          const n = await r.read(into, length, position);
          seen.positional += n;
          return n;
        },
        close: async () => {
          seen.closed++;
          await r.close();
        },
      };
    },
  });
  return { ...base, storage, seen, done: () => rmSync(root, { recursive: true, force: true }) };
}

test('from a folder: read once, positionally, and the file closed; a read that fails midway is read_failed, an interrupt is interrupted, files closed and the temp folder removed', async () => {
  const ok = await folderSetup();
  try {
    const a = await fetchArchive(ok.backup, ok.storage, {}, { ctx: ok.ctx });
    assert.ok(readFileSync(a.file).equals(raw));
    await a.cleanup();
    assert.deepEqual(ok.seen, { positional: stored.length, gets: 0, opened: 1, closed: 1 }, 'every byte read once, through Storage.open, not get');
  } finally {
    ok.done();
    rmSync(ok.tmp, { recursive: true, force: true });
  }

  assert.ok(stored.length > 3 * (256 << 10), 'a payload of several reads');
  const failing = await folderSetup((position) => {
    if (position >= 256 << 10) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
  });
  try {
    await assert.rejects(fetchArchive(failing.backup, failing.storage, {}, { ctx: failing.ctx }), (e: unknown) => {
      assert.ok(isLifeboatError(e) && e.code === 'read_failed', String(e));
      assert.match(e.message, /^reading file:\/\/.*\/dump\.pgc\.zst failed: EIO: i\/o error, read$/);
      return true;
    });
    assert.equal(failing.seen.closed, failing.seen.opened);
    assert.deepEqual(readdirSync(failing.tmp), [], 'the temp folder is removed');
  } finally {
    failing.done();
    rmSync(failing.tmp, { recursive: true, force: true });
  }

  const stop = new AbortController();
  const stopped = await folderSetup((position) => {
    if (position >= 256 << 10) stop.abort();
  });
  try {
    await assert.rejects(fetchArchive(stopped.backup, stopped.storage, {}, { ctx: { ...stopped.ctx, signal: stop.signal } }), (e: unknown) => isLifeboatError(e) && e.code === 'interrupted');
    assert.equal(stopped.seen.closed, stopped.seen.opened);
    assert.deepEqual(readdirSync(stopped.tmp), []);
  } finally {
    stopped.done();
    rmSync(stopped.tmp, { recursive: true, force: true });
  }
});
