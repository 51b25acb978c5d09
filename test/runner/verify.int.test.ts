import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readSync, rmSync, writeSync, closeSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { finalEvent, runCli } from './cli-harness';
import { RICH_DATA_SQL, RICH_SCHEMA_SQL, tableChecksums } from './pg-fixtures';

let pg: PgCluster;
let storage: string;
let id: string;

before(async () => {
  pg = await startPostgres();
  await pg.createDatabase('shop');
  await pg.query(RICH_SCHEMA_SQL + RICH_DATA_SQL, 'shop');
  storage = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-verify-'));
  const r = await runCli(['backup', '--storage', storage, '--database-url', pg.url('shop')]);
  assert.equal(r.code, 0, r.stderr);
  id = r.stdout.trim();
});
after(async () => {
  await pg?.stop();
  if (storage) rmSync(storage, { recursive: true, force: true });
});

async function databases(): Promise<string[]> {
  return (await pg.query<{ d: string }>('SELECT datname AS d FROM pg_database ORDER BY 1')).map((r) => r.d);
}

test('verify latest checks the checksum and reads the whole archive', async () => {
  const r = await runCli(['verify', 'latest', '--storage', storage]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${id}: sha256 ok, archive readable`));
  assert.equal(finalEvent(r.stderr)!.event, 'verify.succeeded');
});

test('verify --restore-into a missing database creates it, compares row counts and drops it', async () => {
  const before = await databases();
  const r = await runCli(['verify', id, '--storage', storage, '--restore-into', pg.url('scratch_verify')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /scratch restore into "scratch_verify" ok/);
  assert.match(r.stdout, /sales\.orders\s+2000\s+2000\s+ok/);
  assert.deepEqual(await databases(), before, 'the scratch database is gone');
});

test('verify --restore-into an empty database leaves it empty again', async () => {
  await pg.createDatabase('empty_scratch');
  const r = await runCli(['verify', id, '--storage', storage, '--restore-into', pg.url('empty_scratch')]);
  assert.equal(r.code, 0, r.stderr);
  const left = await pg.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`,
    'empty_scratch',
  );
  assert.equal(left[0]!.n, '0');
  const schemas = await pg.query<{ s: string }>(`SELECT nspname AS s FROM pg_namespace WHERE nspname IN ('sales', 'Audit Log')`, 'empty_scratch');
  assert.deepEqual(schemas, []);
});

test('a flipped byte in the payload: verify and restore fail naming the object and both checksums, nothing restored', async () => {
  const payload = path.join(storage, 'yearly', 'postgres', 'shop', id, 'dump.pgc.zst');
  const size = statSync(payload).size;
  const fd = openSync(payload, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, Math.floor(size / 2));
  b[0] = b[0]! ^ 0x01;
  writeSync(fd, b, 0, 1, Math.floor(size / 2));
  closeSync(fd);
  const manifest = JSON.parse((await import('node:fs')).readFileSync(path.join(path.dirname(payload), 'manifest.json'), 'utf8')) as {
    payload: { sha256: string; frames?: { sha256: string }[] };
  };

  const v = await runCli(['verify', id, '--storage', storage]);
  assert.equal(v.code, 1, v.stderr);
  const line = v.stderr.split('\n').find((l) => l.startsWith('lifeboat: '))!;
  assert.match(line, /checksum mismatch/);
  assert.ok(line.includes(`${id}/dump.pgc.zst`), line);
  assert.ok(line.includes(manifest.payload.sha256), line);
  assert.match(line, /hash to [0-9a-f]{64}/);
  assert.equal(finalEvent(v.stderr)!.errorCode, 'checksum_mismatch');
  // The failure event names the backup it was about, as the success event would.
  assert.deepEqual(
    (({ source, class: cls, backupId }) => ({ source, cls, backupId }))(finalEvent(v.stderr)!),
    { source: 'shop', cls: 'yearly', backupId: id },
  );

  const before = await databases();
  const r = await runCli(['restore', id, '--storage', storage, '--target-url', pg.url('from_corrupt'), '--create']);
  assert.equal(r.code, 1, r.stderr);
  const rline = r.stderr.split('\n').find((l) => l.startsWith('lifeboat: '))!;
  assert.match(rline, /checksum mismatch/);
  // A streamed restore checks each frame as it ends: the message names the frame's sha256 from the manifest.
  const sums = [manifest.payload.sha256, ...(manifest.payload.frames ?? []).map((f) => f.sha256)];
  assert.ok(rline.includes(`${id}/dump.pgc.zst`) && sums.some((h) => rline.includes(h)), rline);
  assert.equal(finalEvent(r.stderr)!.backupId, id);
  assert.equal(finalEvent(r.stderr)!.class, 'yearly');
  assert.deepEqual(await databases(), before, 'no database was created from a corrupt payload');
  // The source is untouched, of course.
  assert.ok(Object.keys(await tableChecksums(pg, 'shop')).length > 0);
});

test('verify reads the whole archive: a truncated dump with a consistent checksum fails in pg_restore, naming the backup', async () => {
  const { execFileSync } = await import('node:child_process');
  const { createHash } = await import('node:crypto');
  const fs = await import('node:fs');
  const r0 = await runCli(['backup', '--storage', storage, '--database-url', pg.url('shop'), '--source', 'truncated', '--class', 'manual']);
  assert.equal(r0.code, 0, r0.stderr);
  const tid = r0.stdout.trim();
  const dir = path.join(storage, 'manual', 'postgres', 'truncated', tid);
  const raw = execFileSync('zstd', ['-d', '-c', path.join(dir, 'dump.pgc.zst')]);
  // Cut the archive inside its data blocks (the TOC at the start stays whole, so only a full read notices).
  const rawCut = raw.subarray(0, Math.floor(raw.length * 0.8));
  const cut = execFileSync('zstd', ['-q', '-c'], { input: rawCut });
  fs.writeFileSync(path.join(dir, 'dump.pgc.zst'), cut);
  const mPath = path.join(dir, 'manifest.json');
  const m = JSON.parse(fs.readFileSync(mPath, 'utf8')) as { payload: { sha256: string; storedBytes: number; rawBytes: number; frames?: unknown } };
  m.payload.sha256 = createHash('sha256').update(cut).digest('hex');
  m.payload.storedBytes = cut.length;
  delete m.payload.frames; // recompressed in one frame: as a manifest from before frames
  const manifestWithRawBytes = (n: number): string => JSON.stringify({ ...m, payload: { ...m.payload, rawBytes: n } });

  // The manifest's size of the decompressed dump gives the cut away before pg_restore runs...
  fs.writeFileSync(mPath, manifestWithRawBytes(raw.length));
  const sized = await runCli(['verify', tid, '--storage', storage]);
  assert.equal(sized.code, 1, sized.stderr);
  assert.equal(finalEvent(sized.stderr)!.errorCode, 'checksum_mismatch');
  assert.match(sized.stderr, new RegExp(`decompressed to ${rawCut.length} bytes, the manifest says ${raw.length}`));

  // ...and with that size forged as well, reading every data block in pg_restore still does.
  fs.writeFileSync(mPath, manifestWithRawBytes(rawCut.length));
  const v = await runCli(['verify', tid, '--storage', storage]);
  assert.equal(v.code, 1, v.stderr);
  assert.equal(finalEvent(v.stderr)!.errorCode, 'archive_unreadable');
  const line = v.stderr.split('\n').find((l) => l.startsWith('lifeboat: '))!;
  assert.match(line, new RegExp(`backup ${tid}: pg_restore exited with code 1: pg_restore: error: `));
});

test('verify checks the frame index too: a wrong sha256 for one frame fails with frames_mismatch, saying the payload is intact', async () => {
  const fs = await import('node:fs');
  const r0 = await runCli(['backup', '--storage', storage, '--database-url', pg.url('shop'), '--source', 'frames', '--class', 'manual']);
  assert.equal(r0.code, 0, r0.stderr);
  const tid = r0.stdout.trim();
  const mPath = path.join(storage, 'manual', 'postgres', 'frames', tid, 'manifest.json');
  const good = await runCli(['verify', tid, '--storage', storage]);
  assert.equal(good.code, 0, good.stderr);
  const m = JSON.parse(fs.readFileSync(mPath, 'utf8')) as { payload: { frames: { sha256: string }[] } };
  assert.ok(m.payload.frames.length >= 2, 'a head frame and data');
  m.payload.frames[1]!.sha256 = '0'.repeat(64);
  fs.writeFileSync(mPath, JSON.stringify(m));
  const v = await runCli(['verify', tid, '--storage', storage]);
  assert.equal(v.code, 1, v.stderr);
  assert.equal(finalEvent(v.stderr)!.errorCode, 'frames_mismatch');
  assert.match(v.stderr, /frame 1 of \d+ does not hash to its sha256 in the manifest\); the payload itself is intact/);
});

test('verify --json prints one JSON document with the checksum, the scratch restore and its row counts', async () => {
  const b = await runCli(['backup', '--storage', storage, '--database-url', pg.url('shop'), '--source', 'json', '--class', 'manual']);
  assert.equal(b.code, 0, b.stderr);
  const r = await runCli(['verify', 'latest', '--source', 'json', '--storage', storage, '--restore-into', pg.url('json_scratch'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { backupId: string; ok: boolean; sha256: string; scratch: string; tables: { ok: boolean }[] };
  assert.equal(out.backupId, b.stdout.trim());
  assert.equal(out.ok, true);
  assert.match(out.sha256, /^[0-9a-f]{64}$/);
  assert.equal(out.scratch, 'created-and-dropped');
  assert.equal(out.tables.length, 6);
  assert.ok(out.tables.every((t) => t.ok));
});
