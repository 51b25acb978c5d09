/**
 * Process-level behaviour of backup, with the CLI as a real process: SIGKILL in the middle leaves nothing
 * list/restore/verify would take; SIGTERM stops the children, publishes nothing and exits 1 with
 * backup.failed; a backup taken under concurrent writes is consistent with its own row counts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { ManifestSchema } from '../../runner/contract/manifest';
import { finalEvent, runCli, runCliProcess } from './cli-harness';

let pg: PgCluster;
let work: string;

before(async () => {
  pg = await startPostgres();
  await pg.createDatabase('big');
  // ~70 MB of poorly compressible text: the dump takes long enough to be interrupted in the middle.
  await pg.query(
    `CREATE TABLE big (id int PRIMARY KEY, a text, b text);
     INSERT INTO big SELECT g, md5(g::text) || md5((g * 7)::text), md5((g * 13)::text) FROM generate_series(1, 600000) g;
     CREATE TABLE live (id bigserial PRIMARY KEY, at timestamptz DEFAULT now(), note text);`,
    'big',
  );
  work = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-crash-'));
});
after(async () => {
  await pg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function filesUnder(dir: string): { file: string; size: number }[] {
  let out: { file: string; size: number }[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out = out.concat(filesUnder(full));
    else out.push({ file: full, size: statSync(full).size });
  }
  return out;
}

/** Resolves once a payload is being written (a .partial file holding at least `bytes`). */
function whenPartialHas(dir: string, bytes: number, child: import('node:child_process').ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (child.exitCode !== null) {
        clearInterval(t);
        reject(new Error(`the backup ended (exit ${child.exitCode}) before it could be interrupted: make the database bigger`));
      }
      if (filesUnder(dir).some((f) => f.file.endsWith('.partial') && f.size >= bytes)) {
        clearInterval(t);
        resolve();
      }
    }, 5);
  });
}

async function pgDumpSessions(): Promise<number> {
  const r = await pg.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'pg_dump'`);
  return Number(r[0]!.n);
}

async function waitForNoDumpSessions(): Promise<number> {
  for (let i = 0; i < 100 && (await pgDumpSessions()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
  return pgDumpSessions();
}

test('SIGKILL in the middle of a backup leaves nothing that list, restore latest or verify latest would take', async () => {
  const storage = path.join(work, 'killed');
  let interrupted: Promise<void> | undefined;
  const r = await runCliProcess(['backup', '--storage', storage, '--database-url', pg.url('big')], {}, (child) => {
    interrupted = whenPartialHas(storage, 1 << 20, child).then(() => void child.kill('SIGKILL'));
  });
  await interrupted;
  assert.equal(r.signal, 'SIGKILL');
  assert.ok(filesUnder(storage).length > 0, 'the killed backup did leave a partial payload behind');
  assert.ok(filesUnder(storage).every((f) => !f.file.endsWith('manifest.json')), 'no manifest');

  const list = await runCli(['list', '--storage', storage, '--json']);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout), []);
  const restore = await runCli(['restore', 'latest', '--storage', storage, '--target-url', pg.url('from_killed'), '--create']);
  assert.equal(restore.code, 2);
  assert.match(restore.stderr, /no complete backup found/);
  const verify = await runCli(['verify', 'latest', '--storage', storage]);
  assert.equal(verify.code, 2);
  assert.match(verify.stderr, /no complete backup found/);
  // The orphaned pg_dump dies of a broken pipe; its session ends.
  assert.equal(await waitForNoDumpSessions(), 0);
});

test('SIGTERM stops pg_dump and zstd, publishes nothing and exits 1 with backup.failed', async () => {
  const storage = path.join(work, 'terminated');
  let interrupted: Promise<void> | undefined;
  const r = await runCliProcess(['backup', '--storage', storage, '--database-url', pg.url('big')], {}, (child) => {
    interrupted = whenPartialHas(storage, 1 << 20, child).then(() => void child.kill('SIGTERM'));
  });
  await interrupted;
  assert.equal(r.code, 1, r.stderr);
  const ev = finalEvent(r.stderr)!;
  assert.equal(ev.event, 'backup.failed');
  assert.equal(ev.errorCode, 'interrupted');
  // It names the backup that was being written (its folder is what prune later cleans up).
  assert.match(String(ev.backupId), /^\d{8}T\d{6}Z-[0-9a-f]{4}$/);
  assert.equal(ev.class, 'yearly');
  assert.deepEqual(filesUnder(storage).map((f) => f.file), [], 'no payload, no partial, no manifest');
  assert.equal(await waitForNoDumpSessions(), 0);
});

test('a backup taken while another connection writes matches its own row counts when restored', async () => {
  const storage = path.join(work, 'concurrent');
  const writer = new Client({ connectionString: pg.url('big') });
  await writer.connect();
  let writing = true;
  let batches = 0;
  const load = (async () => {
    while (writing) {
      await writer.query(`INSERT INTO live (note) SELECT md5(random()::text) FROM generate_series(1, 50)`);
      await writer.query(`UPDATE big SET b = md5(random()::text) WHERE id = $1`, [1 + (batches % 1000)]);
      batches++;
    }
  })();
  try {
    // Let the writer get going, then back up while it runs.
    while (batches < 5) await new Promise((r) => setTimeout(r, 10));
    const b = await runCli(['backup', '--storage', storage, '--database-url', pg.url('big'), '--json']);
    assert.equal(b.code, 0, b.stderr);
    const m = ManifestSchema.parse(JSON.parse(b.stdout));
    const during = batches;
    writing = false;
    await load;
    const liveRows = m.tables.find((t) => t.name === 'live')!.rows!;
    const finalRows = Number((await pg.query<{ n: string }>('SELECT count(*) AS n FROM live', 'big'))[0]!.n);
    assert.ok(liveRows > 0, 'rows written before the snapshot are in it');
    assert.ok(finalRows > liveRows, `writes went on after the snapshot (${finalRows} > ${liveRows}, ${during} batches)`);
    assert.equal(m.tables.find((t) => t.name === 'big')!.rows, 600000);

    const r = await runCli(['restore', m.id, '--storage', storage, '--target-url', pg.url('concurrent_restored'), '--create', '--jobs', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`public\\.live\\s+${liveRows}\\s+${liveRows}\\s+ok`));
  } finally {
    writing = false;
    await load.catch(() => undefined);
    await writer.end();
  }
});
