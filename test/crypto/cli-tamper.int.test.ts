/**
 * Encrypted backups through the CLI when the ciphertext itself is damaged. The manifest's sha256 catches a
 * damaged payload first; these tests also rewrite the manifest to match, as an attacker with write access
 * would, so that age's own authentication is what must stop the restore: exit 1, a message saying what is
 * wrong, and no database created.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { finalEvent, runCli } from '../runner/cli-harness';

let pg: PgCluster;
let dir: string;
let storage: string;
let identityFile: string;
let payloadFile: string;
let manifestFile: string;
let original: Buffer;
let originalManifest: string;
let backupId: string;

const CHUNK = 65536 + 16;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-tamper-'));
  storage = path.join(dir, 'storage');
  pg = await startPostgres();
  const age = await import('age-encryption');
  const identity = await age.generateX25519Identity();
  identityFile = path.join(dir, 'key.txt');
  writeFileSync(identityFile, `${identity}\n`, { mode: 0o600 });
  await pg.createDatabase('app');
  // Random bytes do not compress: the payload spans several 64 KiB age chunks.
  await pg.query(
    `CREATE EXTENSION pgcrypto;
     CREATE TABLE blobs (id int PRIMARY KEY, data bytea);
     INSERT INTO blobs SELECT g, gen_random_bytes(1024) FROM generate_series(1, 400) g;`,
    'app',
  );
  const r = await runCli(['backup', '--storage', storage, '--database-url', pg.url('app'), '--class', 'manual', '--encrypt-to', await age.identityToRecipient(identity)]);
  assert.equal(r.code, 0, r.stderr);
  backupId = r.stdout.trim();
  const folder = path.join(storage, 'manual', 'postgres', 'app', backupId);
  payloadFile = path.join(folder, 'dump.pgc.zst.age');
  manifestFile = path.join(folder, 'manifest.json');
  original = readFileSync(payloadFile);
  originalManifest = readFileSync(manifestFile, 'utf8');
  assert.ok(original.length > 4 * CHUNK, `payload of ${original.length} bytes spans several chunks`);
});
after(async () => {
  await pg?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Replaces the payload, and (unless told not to) makes the manifest's checksum and size agree with it. */
function damage(bytes: Buffer, fixManifest = true): void {
  writeFileSync(payloadFile, bytes);
  const m = JSON.parse(originalManifest) as { payload: { sha256: string; storedBytes: number } };
  if (fixManifest) {
    m.payload.sha256 = createHash('sha256').update(bytes).digest('hex');
    m.payload.storedBytes = bytes.length;
  }
  writeFileSync(manifestFile, JSON.stringify(m));
}

function headerLength(b: Buffer): number {
  return b.indexOf('\n', b.indexOf('\n--- ') + 1) + 1 + 16;
}

async function restoreFails(target: string, message: RegExp): Promise<void> {
  const r = await runCli(['restore', backupId, '--storage', storage, '--target-url', pg.url(target), '--create', '--identity-file', identityFile]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(finalEvent(r.stderr)?.event, 'restore.failed');
  assert.match(r.stderr, message);
  const dbs = await pg.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname = '${target}'`);
  assert.deepEqual(dbs, [], 'nothing was restored');
}

test('the untouched encrypted backup restores (so the failures below are the damage)', async () => {
  damage(original);
  const r = await runCli(['restore', backupId, '--storage', storage, '--target-url', pg.url('intact'), '--create', '--identity-file', identityFile]);
  assert.equal(r.code, 0, r.stderr);
});

test('truncated at a chunk boundary with a matching manifest: exit 1, nothing restored', async () => {
  const h = headerLength(original);
  const chunks = Math.floor((original.length - h) / CHUNK);
  damage(original.subarray(0, h + (chunks - 1) * CHUNK));
  await restoreFails('cut_boundary', /failed authentication|truncated/);
});

test('truncated inside a chunk with a matching manifest: exit 1, nothing restored', async () => {
  damage(original.subarray(0, original.length - 1000));
  await restoreFails('cut_inside', /failed authentication|truncated/);
});

test('one flipped bit in the middle with a matching manifest: exit 1, nothing restored', async () => {
  const bad = Buffer.from(original);
  bad[Math.floor(bad.length / 2)]! ^= 0x04;
  damage(bad);
  await restoreFails('flipped', /failed authentication/);
});

test('two chunks swapped with a matching manifest: exit 1, nothing restored', async () => {
  const h = headerLength(original);
  const bad = Buffer.from(original);
  original.copy(bad, h, h + CHUNK, h + 2 * CHUNK);
  original.copy(bad, h + CHUNK, h, h + CHUNK);
  damage(bad);
  await restoreFails('swapped', /failed authentication/);
});

test('a flipped bit with the manifest left alone: the checksum mismatch is reported first', async () => {
  const bad = Buffer.from(original);
  bad[bad.length - 10]! ^= 0x01;
  damage(bad, false);
  await restoreFails('mismatch', /checksum mismatch/);
  damage(original);
});
