/**
 * `npm run bench`: lifeboat against pg_dump/pg_restore themselves, on a cached >= 1 GB mixed dataset (see
 * dataset.ts). Prints figures side by side and writes them to bench/results-<time>.json. Figures, not
 * assertions: the targets are printed next to the measured ratios.
 *
 *   (a) pg_dump -Fc > file               (b) pg_dump -Fc -Z0 > /dev/null (the raw dump limit)
 *   (c) lifeboat backup, local storage   (d) the same to the S3 emulators (s3rver; moto_server where installed),
 *   each in its own process, with its CPU reported, and to a sink that discards the payload (lifeboat's own S3
 *   cost)   (e) encrypted (age), local
 *   (f) pg_restore -j2 from (a)'s file vs lifeboat restore --jobs 2 of (c)
 *   4x: peak RSS of lifeboat backup and restore at 1x and 4x the dataset
 *
 * `npm run bench -- --only d,e` runs only those steps (and (c), their baseline). `--repeat N` (default 3) runs
 * each 1x lifeboat step and (f)'s pg_restore N times, in interleaved rounds so drifting machine load hits every
 * method alike, and reports the median wall and CPU and the highest peak RSS; single runs on a shared 2-core
 * machine vary by 20%. bench/s3-memory.ts measures the cloud upload paths' memory alone.
 *
 * `npm run bench -- --shape mixed,onebig,manysmall [--jobs N] [--repeat R] [--scale S] [--rss-4x]` compares instead on
 * modest datasets of each shape (one table dominating with three indexes; thousands of small tables) with
 * pg_dump -Fd -jN, pg_restore -jN and pgBackRest's full backup and restore, each as a ratio (shapes-run.ts).
 *
 * The runner runs as in its container image: compiled with tsc (runner/tsconfig.build.json) and started with
 * plain node, not through tsx, of the image's version (runner-node.ts) and with the image's NODE_OPTIONS.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildRunner, RUNNER_NODE_OPTIONS } from './build';
import { runnerNode } from './runner-node';
import { CACHE, datasetCluster } from './dataset';
import { TIME_BIN, haveGnuTime, measure, type Figures } from './measure';
import { startExternalS3, type ExternalS3 } from './s3-emulator';
import { runShapes, shapeOptions } from './shapes-run';
import { motoServerPath } from '../test/harness/s3';

/** The bench runs its moto row where moto_server is installed (the tests require it; the bench only reports). */
function hasMotoServer(): boolean {
  try {
    motoServerPath();
    return true;
  } catch {
    return false;
  }
}

const ROOT = path.resolve(__dirname, '..');
const WORK = path.join(CACHE, 'work');
const log = (s: string): void => void process.stderr.write(`${s}\n`);

const STEPS = ['a', 'b', 'c', 'd', 'e', 'f', '4x'];

/** `--only d,e`: run only these steps (plus what they are compared with); every step by default. */
function onlyArg(): Set<string> | null {
  const i = process.argv.indexOf('--only');
  if (i < 0) return null;
  const list = (process.argv[i + 1] ?? '').split(',').filter(Boolean);
  const bad = list.filter((x) => !STEPS.includes(x));
  if (list.length === 0 || bad.length) throw new Error(`--only expected a comma-separated list of ${STEPS.join(', ')}, got "${process.argv[i + 1] ?? ''}"`);
  return new Set(list);
}

/** `--repeat N`: rounds of the 1x comparisons (default 3). */
function repeatArg(): number {
  const i = process.argv.indexOf('--repeat');
  if (i < 0) return 3;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 1 || n > 20) throw new Error(`--repeat expected a whole number from 1 to 20, got "${process.argv[i + 1] ?? ''}"`);
  return n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : Math.round(((s[m - 1]! + s[m]!) / 2) * 100) / 100;
}

/** Repeated runs of one method as one row: median wall and CPU, the highest memory, every wall kept. */
function combine(runs: Figures[]): Figures {
  return {
    ...runs[0]!,
    wallSeconds: median(runs.map((r) => r.wallSeconds)),
    cpuSeconds: median(runs.map((r) => r.cpuSeconds)),
    peakTreeRssMiB: Math.max(...runs.map((r) => r.peakTreeRssMiB)),
    maxProcessRssMiB: Math.max(...runs.map((r) => r.maxProcessRssMiB)),
    ...(runs[0]!.emulatorCpuSeconds !== undefined ? { emulatorCpuSeconds: median(runs.map((r) => r.emulatorCpuSeconds!)) } : {}),
    runs: runs.map((r) => r.wallSeconds),
  };
}

function ratio(a: number, b: number): number {
  return Math.round((a / b) * 100) / 100;
}

async function main(): Promise<void> {
  if (!haveGnuTime()) throw new Error(`${TIME_BIN} not found: install it with "apt-get install -y time" (Debian package time)`);
  // `--shape ...`: lifeboat against pg_dump -Fd, pg_restore -j and pgBackRest on each shape of database (shapes-run.ts).
  if (process.argv.includes('--shape')) return runShapes(shapeOptions());
  const only = onlyArg();
  const rounds = repeatArg();
  const want = (step: string): boolean => only === null || only.has(step);
  const cli = buildRunner(log);
  const node = runnerNode(log);
  log(`runner node: ${node.version} (the image pins ${node.imageVersion}): ${node.path}`);
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const pg = await datasetCluster(log);
  // The emulators run in their own processes, so their CPU is measured apart from lifeboat's (see the report).
  const s3 = await startExternalS3('s3rver', 'bench');
  const moto = hasMotoServer() ? await startExternalS3('moto', 'bench') : undefined;
  const sink = await startExternalS3('sink', 'bench');
  const age = await import('age-encryption');
  const identity = await age.generateX25519Identity();
  const recipient = await age.identityToRecipient(identity);

  const pgEnv = (db: string): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    PGHOST: pg.host,
    PGPORT: String(pg.port),
    PGUSER: pg.user,
    PGPASSWORD: pg.password,
    PGDATABASE: db,
  });
  const lbEnv = (db: string, emu: ExternalS3 = s3): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: pg.url(db),
    LIFEBOAT_TMPDIR: WORK,
    // Node runs with the image's flags (runner/Dockerfile ENV NODE_OPTIONS), as in production.
    NODE_OPTIONS: RUNNER_NODE_OPTIONS,
    ...emu.env,
    LIFEBOAT_S3_ENDPOINT: emu.endpoint,
  });
  const bin = (name: string): string => path.join(pg.binDir, name);
  const lifeboat = (...args: string[]): string[] => [node.path, cli, ...args];
  const results: Record<string, Figures> = {};
  const samples: Record<string, Figures[]> = {};
  const record = (key: string, f: Figures): void => void (samples[key] ??= []).push(f);
  const sizes: Record<string, string> = {};

  const backup = async (key: string, label: string, db: string, storage: string, extra: string[] = [], emu?: ExternalS3): Promise<string> => {
    const out = path.join(WORK, `${key}.json`);
    const cpu0 = emu?.cpuSeconds();
    const f = await measure(label, lifeboat('backup', '--storage', storage, '--class', 'manual', '--json', ...extra), { env: lbEnv(db, emu), stdoutFile: out });
    if (f.exitCode !== 0) throw new Error(`${label} failed: ${f.stderrTail}`);
    const m = JSON.parse(readFileSync(out, 'utf8')) as { id: string; payload: { storedBytes: number } };
    record(key, { ...f, archiveBytes: m.payload.storedBytes, ...(emu ? { emulatorCpuSeconds: Math.round((emu.cpuSeconds() - cpu0!) * 100) / 100 } : {}) });
    log(`  ${label}: ${f.wallSeconds} s`);
    return m.id;
  };
  /**
   * Before each restore: flush what the previous step left dirty (a dropped database, a finished backup), so
   * neither restore method pays for the other's writes in its own time.
   */
  const settle = async (): Promise<void> => {
    await pg.query('CHECKPOINT');
    await new Promise((r) => setTimeout(r, 1000));
  };
  const restore = async (key: string, label: string, db: string, id: string, storage: string): Promise<void> => {
    const target = `${db}_lifeboat_restore`;
    await settle();
    const f = await measure(label, lifeboat('restore', id, '--storage', storage, '--target-url', pg.url(target), '--create', '--jobs', '2'), { env: lbEnv(db) });
    if (f.exitCode !== 0) throw new Error(`${label} failed: ${f.stderrTail}`);
    record(key, f);
    log(`  ${label}: ${f.wallSeconds} s`);
    await pg.query(`DROP DATABASE "${target}"`);
  };

  try {
    for (const db of ['bench1x', 'bench4x']) {
      const [s] = await pg.query<{ size: string }>(`SELECT pg_database_size('${db}')::text AS size`);
      sizes[db] = `${(Number(s!.size) / 1024 ** 3).toFixed(2)} GiB`;
    }
    log(`dataset: bench1x ${sizes.bench1x}, bench4x ${sizes.bench4x}`);

    // 1x: every method side by side.
    const dumpFile = path.join(WORK, 'bench1x.pgc');
    log('1x:');
    let f: Figures;
    if (want('a') || want('f')) {
      f = await measure('(a) pg_dump -Fc > file', [bin('pg_dump'), '-Fc', '--no-password'], { env: pgEnv('bench1x'), stdoutFile: dumpFile });
      results.a = { ...f, archiveBytes: statSync(dumpFile).size };
      log(`  (a): ${f.wallSeconds} s`);
    }
    if (want('b')) {
      f = await measure('(b) pg_dump -Fc -Z0 > /dev/null', [bin('pg_dump'), '-Fc', '-Z0', '--no-password'], { env: pgEnv('bench1x'), stdoutFile: '/dev/null' });
      results.b = f;
      log(`  (b): ${f.wallSeconds} s`);
    }
    const local = path.join(WORK, 'storage');
    let id1 = '';
    for (let round = 1; round <= rounds; round++) {
      log(`  round ${round} of ${rounds}`);
      // (c) is the baseline of (d), (e) and (f): it runs whenever one of them does.
      if (['c', 'd', 'e', 'f'].some(want)) id1 = await backup('c', '(c) lifeboat backup, local', 'bench1x', local);
      if (want('d')) {
        await backup('d', '(d) lifeboat backup, S3 (s3rver)', 'bench1x', 's3://bench/run', [], s3);
        if (moto) await backup('d_moto', '(d) lifeboat backup, S3 (moto_server)', 'bench1x', 's3://bench/run', [], moto);
        await backup('d_sink', '(d) lifeboat backup, S3 (sink: no storage work)', 'bench1x', 's3://bench/run', [], sink);
      }
      if (want('e')) {
        await backup('e', '(e) lifeboat backup, encrypted, local', 'bench1x', path.join(WORK, 'storage-enc'), ['--encrypt-to', recipient]);
        rmSync(path.join(WORK, 'storage-enc'), { recursive: true, force: true });
      }
      if (want('f')) await restores(dumpFile, id1, local);
    }
    for (const [key, runs] of Object.entries(samples)) results[key] = combine(runs);
    rmSync(dumpFile, { force: true });
    rmSync(local, { recursive: true, force: true });
    if (want('4x')) await fourTimes();
  } finally {
    await s3.stop();
    await moto?.stop();
    await sink.stop();
    await pg.query('CHECKPOINT').catch(() => undefined);
    await pg.stop();
  }

  async function restores(dumpFile: string, id1: string, local: string): Promise<void> {
    await pg.query('CREATE DATABASE bench1x_pg_restore');
    await settle();
    const f = await measure('(f) pg_restore -j2 from file', [bin('pg_restore'), '-j', '2', '--no-password', '-d', 'bench1x_pg_restore', dumpFile], { env: pgEnv('bench1x') });
    if (f.exitCode !== 0) throw new Error(`pg_restore failed: ${f.stderrTail}`);
    record('f_pg_restore', f);
    log(`  (f) pg_restore: ${f.wallSeconds} s`);
    await pg.query('DROP DATABASE bench1x_pg_restore');
    await restore('f_lifeboat', '(f) lifeboat restore --jobs 2', 'bench1x', id1, local);
  }

  // 4x: memory must stay flat.
  async function fourTimes(): Promise<void> {
    log('4x:');
    const local4 = path.join(WORK, 'storage4x');
    const id4 = await backup('backup_4x', 'lifeboat backup, local, 4x', 'bench4x', local4);
    await restore('restore_4x', 'lifeboat restore --jobs 2, 4x', 'bench4x', id4, local4);
    rmSync(local4, { recursive: true, force: true });
    results.backup_4x = samples.backup_4x![0]!;
    results.restore_4x = samples.restore_4x![0]!;
  }

  const r = results;
  /** A ratio of two measured figures, or nothing when --only left one of them out. */
  const rt = (x: Figures | undefined, y: Figures | undefined, pick: (f: Figures) => number | undefined): number | undefined =>
    x && y && pick(x) !== undefined && pick(y) ? ratio(pick(x)!, pick(y)!) : undefined;
  const wall = (f: Figures): number => f.wallSeconds;
  const all = {
    backupWallVsPgDump: rt(r.c, r.a, wall),
    archiveSizeVsPgDump: rt(r.c, r.a, (f) => f.archiveBytes),
    restoreWallVsPgRestore: rt(r.f_lifeboat, r.f_pg_restore, wall),
    s3WallVsLocal: rt(r.d, r.c, wall),
    s3MotoWallVsLocal: rt(r.d_moto, r.c, wall),
    s3SinkWallVsLocal: rt(r.d_sink, r.c, wall),
    // lifeboat's own CPU (the emulator's is not in it): what the S3 path costs the runner, whatever the store.
    s3CpuVsLocal: rt(r.d, r.c, (f) => f.cpuSeconds),
    encryptedWallVsLocal: rt(r.e, r.c, wall),
    backupPeakRss4xVs1x: rt(r.backup_4x, r.c, (f) => f.peakTreeRssMiB),
    restorePeakRss4xVs1x: rt(r.restore_4x, r.f_lifeboat, (f) => f.peakTreeRssMiB),
  };
  const ratios = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
  const targets = {
    backupWallVsPgDump: '<= 1.0 (aim 0.7)',
    archiveSizeVsPgDump: '<= 1.1',
    restoreWallVsPgRestore: '<= 1.1',
    s3WallVsLocal: '<= 1.3',
    s3MotoWallVsLocal: '<= 1.3',
    s3SinkWallVsLocal: '<= 1.3',
    peakRssMiB: '<= 150, flat from 1x to 4x',
  };

  const rows = Object.values(results);
  const w = Math.max(...rows.map((x) => x.label.length));
  const line = (cols: string[]): string => cols.map((c, i) => (i === 0 ? c.padEnd(w) : c.padStart(12))).join('  ');
  console.log(`\nmachine: ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; dataset 1x ${sizes.bench1x}, 4x ${sizes.bench4x}; runner on node ${node.version} (image: ${node.imageVersion}), NODE_OPTIONS=${RUNNER_NODE_OPTIONS}; 1x rows: median of ${rounds} runs`);
  console.log(line(['', 'wall s', 'cpu s', 'tree RSS MiB', 'max proc MiB', 'archive MiB', 'emulator cpu s']));
  for (const x of rows) {
    console.log(line([x.label, x.wallSeconds.toFixed(2), x.cpuSeconds.toFixed(2), x.peakTreeRssMiB.toFixed(1), x.maxProcessRssMiB.toFixed(1), x.archiveBytes ? (x.archiveBytes / 1024 ** 2).toFixed(1) : '', x.emulatorCpuSeconds?.toFixed(2) ?? '']));
  }
  console.log('\nratios (target):');
  for (const [k, v] of Object.entries(ratios)) console.log(`  ${k.padEnd(24)} ${String(v).padStart(6)}   ${targets[k as keyof typeof targets] ?? ''}`);
  const notes = [
    `1x rows: median wall and cpu of ${rounds} interleaved runs (each run's wall is in the JSON file), highest RSS of them; 4x rows: one run.`,
    'wall/cpu: cpu is the command and its children (pg_dump, zstd); tree RSS: summed RSS of the command\'s process tree, sampled every 50 ms (a child between fork and exec counts only its private pages, not the parent\'s it shares); max proc: the largest single process (GNU time).',
    'S3 rows: the emulator runs in its own process on the same cores; its CPU during the backup is the last column. ' +
      'That work (MD5 and a write of each part; on completion s3rver reads every part back, hashes it again and writes the whole object a second time, after the last byte) ' +
      `happens on the store's side against real S3. Here it competes for the same cores; the emulators keep their objects in ${s3.tmpdir} and s3rver runs node with the runner's flags ` +
      '(bench/s3-emulator.ts; results files from before 2026-11-22 had them on disk with node\'s defaults, so their S3 rows are not comparable). ' +
      'Loopback has no TLS and no network latency, which a real store adds. The sink row is the lower bound: an endpoint that ' +
      'discards the payload, so only lifeboat\'s own S3 work (signing, HTTP, part buffering) is timed; s3CpuVsLocal is that work in CPU.',
  ];
  console.log('\nnotes:');
  for (const n of notes) console.log(`  - ${n}`);
  const file = path.join(__dirname, `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), machine: { cores: os.cpus().length, loadavg: os.loadavg(), node: process.version, runnerNode: node.version, imageNode: node.imageVersion, nodeOptions: RUNNER_NODE_OPTIONS, emulator: { tmpdir: s3.tmpdir, nodeOptions: RUNNER_NODE_OPTIONS } }, rounds, dataset: sizes, results, ratios, targets, notes }, null, 2) + '\n');
  console.log(`\nwritten to ${path.relative(ROOT, file)}`);
}

main().catch((e: unknown) => {
  console.error(`bench failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
