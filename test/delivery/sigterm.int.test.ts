/**
 * SIGTERM in the middle of a backup, delivered as a job platform delivers it: to PID 1 of the image's entrypoint
 * (tini), which forwards it to the runner. The backup must abort cleanly: exit non-zero, no manifest, nothing
 * `list` would show, no partial object left behind, pg_dump and zstd gone, and one `backup.failed` event.
 *
 * "Mid-way" is made deterministic instead of timed: once pg_dump is copying the big table and the upload has
 * started, pg_dump's server backend is frozen with SIGSTOP, so the dump is guaranteed to be unfinished when
 * SIGTERM arrives, however fast or slow this machine is. The backend is resumed afterwards (and in `after()`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { requireOnPath } from '../harness/binaries';
import { EVENTS } from '../../runner/contract/events';
import { buildRunnerLikeImage, collect, jobEnv, jobUser, jsonLines, runEntrypoint, startEntrypoint, type RunnerBuild } from './runner-build';

const ROWS = 1_000_000;

let build: RunnerBuild;
let pg: PgCluster;
let work: string;
const frozen = new Set<number>();

function jobDir(name: string): string {
  const dir = path.join(work, name);
  mkdirSync(dir);
  const { uid, gid } = jobUser();
  if (uid !== undefined) chownSync(dir, uid, gid!);
  return dir;
}

function files(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => !isDir(path.join(dir, f)));
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Live processes whose parent is `pid`, with their command names (from /proc). */
function childrenOf(pid: number): Array<{ pid: number; comm: string }> {
  const out: Array<{ pid: number; comm: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push({ pid: Number(entry), comm });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function alive(pid: number, comm: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return stat.includes(`(${comm})`) && state !== 'Z';
  } catch {
    return false;
  }
}

/** Polls `probe` until it returns a value; fails with `what` if it never does. Not a timing assertion. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, limitMs = 60_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(10);
  }
}

function resumeAll(): void {
  for (const pid of frozen) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // already gone
    }
  }
  frozen.clear();
}

before(async () => {
  requireOnPath('tini', 'tini');
  build = buildRunnerLikeImage();
  work = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-sigterm-'));
  chmodSync(work, 0o755);
  pg = await startPostgres();
  await pg.createDatabase('bigshop');
  // ~130 MB of rows: pg_dump spends a while in this table's COPY, long enough to be seen doing it.
  await pg.query(
    `CREATE TABLE events (id bigint PRIMARY KEY, payload text NOT NULL, at timestamptz NOT NULL);
     INSERT INTO events SELECT g, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text), now() - g * interval '1 second'
       FROM generate_series(1, ${ROWS}) g;
     CREATE TABLE customers (id int PRIMARY KEY, email text);
     INSERT INTO customers SELECT g, 'c' || g || '@example.com' FROM generate_series(1, 1000) g;
     -- Dumped after events: while events' COPY is held the archive cannot end, so the frame holding events (and
     -- its zstd: frames are cut only where a table's data starts) stays open.
     CREATE TABLE zz_after_events (id int PRIMARY KEY);
     INSERT INTO zz_after_events SELECT generate_series(1, 10);`,
    'bigshop',
  );
});

after(async () => {
  resumeAll();
  await pg?.stop();
  build?.remove();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('SIGTERM to PID 1 mid-backup: exit 1, no manifest, nothing listed, no partial object, children gone, backup.failed', async (t) => {
  const storage = jobDir('storage');
  const tmp = jobDir('tmp');
  const env = jobEnv(tmp, { DATABASE_URL: pg.url('bigshop'), LIFEBOAT_STORAGE: storage });
  const started = Date.now();
  const child = startEntrypoint(build, ['backup'], { env, ...jobUser(), cwd: '/' });
  const result = collect(child);
  const tini = child.pid!;

  const watcher = new Client({ connectionString: pg.url('postgres') });
  await watcher.connect();
  let dumpPid: number | undefined;
  let zstdPid: number | undefined;
  try {
    // pg_dump's server backend, once it has sent some MB of the big table: enough to pass every buffer on the way
    // (pg_dump's own output buffer among them), so the runner's zstd for the table's frame is running. Frozen the
    // moment COPY began, pg_dump could still hold the end of the archive's TOC unsent, and no zstd would run yet.
    const backend = await waitFor('pg_dump to copy the events table', async () => {
      const r = await watcher.query<{ pid: number }>(
        `SELECT a.pid FROM pg_stat_activity a JOIN pg_stat_progress_copy p ON p.pid = a.pid
          WHERE a.application_name = 'pg_dump' AND a.state = 'active' AND a.query ILIKE 'COPY %events%'
            AND p.tuples_processed >= ${ROWS / 20}`,
      );
      return r.rows[0]?.pid;
    });
    t.diagnostic(`pg_dump copying the big table after ${Date.now() - started} ms`);
    process.kill(backend, 'SIGSTOP');
    frozen.add(backend);

    // The upload has started: a temporary object exists in the backup's folder, and no manifest does.
    await waitFor('the upload to start', () => (files(storage).some((f) => f.endsWith('.partial')) ? true : undefined));
    const node = childrenOf(tini).find((c) => c.comm === 'node');
    assert.ok(node, 'tini runs node');
    let kids = childrenOf(node.pid);
    // The last bytes may still be on their way to the runner: a moment for its zstd to show.
    await waitFor("the runner's pg_dump and zstd", () => ((kids = childrenOf(node.pid)).some((c) => c.comm === 'zstd') ? true : undefined), 5_000).catch(() => undefined);
    dumpPid = kids.find((c) => c.comm === 'pg_dump')?.pid;
    zstdPid = kids.find((c) => c.comm === 'zstd')?.pid;
    assert.ok(dumpPid && zstdPid, `the runner's children: ${JSON.stringify(kids)}`);

    // What `docker stop`, Cloud Run and Kubernetes do: SIGTERM to PID 1.
    const signalled = Date.now();
    process.kill(tini, 'SIGTERM');
    const r = await result;
    // A figure, not an assertion: how long the clean abort took (platforms allow ~10 s before SIGKILL).
    t.diagnostic(`exited ${Date.now() - signalled} ms after SIGTERM`);
    resumeAll();

    assert.equal(r.signal, null, 'the runner exits by itself rather than being killed by the signal');
    assert.equal(r.code, 1, r.stderr);
    const events = jsonLines(r.stderr).filter((l) => 'event' in l);
    assert.equal(events.length, 1, r.stderr);
    assert.equal(events[0]!.event, EVENTS.backupFailed);
    assert.equal(events[0]!.errorCode, 'interrupted');
    assert.equal(events[0]!.exitCode, 1);
    assert.match(String(events[0]!.message), /SIGTERM/);
    assert.equal(r.stdout, '', 'no backup id printed');

    assert.deepEqual(files(storage).filter((f) => f.endsWith('manifest.json')), [], 'no manifest');
    assert.deepEqual(files(storage), [], 'no payload and no partial object left behind');
    assert.ok(!alive(dumpPid, 'pg_dump'), 'pg_dump stopped');
    assert.ok(!alive(zstdPid, 'zstd'), 'zstd stopped');
    assert.ok(!r.stderr.includes(pg.password) && !r.stdout.includes(pg.password), 'no password in output');

    const list = await runEntrypoint(build, ['list', '--json'], { env, ...jobUser(), cwd: '/' });
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), [], 'list shows no backup');
    assert.ok(existsSync(tmp));
    assert.deepEqual(files(tmp), [], 'nothing left in TMPDIR');
  } finally {
    resumeAll();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await result.catch(() => undefined);
    await watcher.end().catch(() => undefined);
  }
});
