/**
 * `npm run bench -- --shape mixed,onebig,manysmall [--jobs N] [--repeat R] [--scale S] [--rss-4x]`: lifeboat against
 * its peers on each shape of database (shapes.ts), in one run, each printed as a ratio. Per shape and round:
 *
 *   pg_dump -Fc > file (once: the file pg_restore reads)     pg_dump -Fd -jN (a folder)
 *   pgBackRest full backup (zstd, N processes)                lifeboat backup --jobs N, local storage
 *   createdb, then pg_restore -jN from the -Fc file           lifeboat restore --create --jobs N
 *   pgBackRest restore of that backup until the restored server answers a query (a server on a folder of its own)
 *
 * Both restores make their database: lifeboat's --create runs CREATE DATABASE (30 ms alone on an idle server
 * here, up to 0.25 s just after a load, copying template0), so pg_restore's clock includes createdb -T template0
 * too, as on a fresh server. (pg_restore --create would make the dump's own name, which the source holds.)
 *
 * Rounds are interleaved so drifting load hits every method alike, and the two restores swap order each round;
 * each ratio is given as the median of the rounds' ratios with its range. Peak RSS is the summed RSS of the
 * command's whole process tree (measure.ts).
 * With --rss-4x, lifeboat's backup and restore run once more on the shape at 4x the scale: its RSS must stay flat.
 * Figures, not assertions.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildRunner, RUNNER_NODE_OPTIONS } from './build';
import { CACHE, chownToPostgres } from './dataset';
import { measure, type Figures } from './measure';
import { runnerNode } from './runner-node';
import { lastPgbackrestBackup, MAX_LOCKS, shapeCluster, SHAPES, STANZA, type Shape, type ShapeCluster } from './shapes';
import { freePort } from '../test/harness/ports';

const log = (s: string): void => void process.stderr.write(`${s}\n`);
const WORK = path.join(CACHE, 'shapes-work');
const root = process.getuid?.() === 0;
const asPostgres = (argv: string[]): string[] => (root ? ['runuser', '-u', 'postgres', '--', ...argv] : argv);

export interface ShapeOptions {
  shapes: Shape[];
  jobs: number;
  rounds: number;
  scale: number;
  rss4x: boolean;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

function wholeArg(name: string, fallback: number, max: number): number {
  const given = arg(name);
  if (given === undefined) return fallback;
  const n = Number(given);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${name} expected a whole number from 1 to ${max}, got "${given}"`);
  return n;
}

export function shapeOptions(): ShapeOptions {
  const list = (arg('--shape') ?? '').split(',').filter(Boolean);
  const bad = list.filter((s) => !(SHAPES as readonly string[]).includes(s));
  if (!list.length || bad.length) throw new Error(`--shape expected a comma-separated list of ${SHAPES.join(', ')}, got "${arg('--shape') ?? ''}"`);
  const scale = Number(arg('--scale') ?? '1');
  if (!(scale > 0 && scale <= 16)) throw new Error(`--scale expected a number above 0 and at most 16, got "${arg('--scale') ?? ''}"`);
  return { shapes: list as Shape[], jobs: wholeArg('--jobs', 2, 16), rounds: wholeArg('--repeat', 2, 20), scale, rss4x: process.argv.includes('--rss-4x') };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const r2 = (n: number): number => Math.round(n * 100) / 100;

interface Row {
  label: string;
  runs: Figures[];
}

export async function runShapes(opts: ShapeOptions): Promise<void> {
  const cli = buildRunner(log);
  const node = runnerNode(log);
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  chownToPostgres(WORK);
  const report: Record<string, unknown> = {};
  const lines: string[] = [];
  for (const shape of opts.shapes) {
    const c = await shapeCluster(shape, opts.scale, opts.jobs, log);
    try {
      const result = await compare(shape, c, opts, cli, node.path);
      if (opts.rss4x) {
        const c4 = await shapeCluster(shape, opts.scale * 4, opts.jobs, log);
        try {
          const [b4, r4] = await lifeboatOnce(c4, opts, cli, node.path);
          result.rss4x = { backupMiB: b4.peakTreeRssMiB, restoreMiB: r4.peakTreeRssMiB };
        } finally {
          await c4.pg.stop();
        }
      }
      report[shape] = result;
      lines.push(...result.lines);
    } finally {
      await c.pg.stop();
    }
  }
  rmSync(WORK, { recursive: true, force: true });
  console.log(`\nmachine: ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; --jobs ${opts.jobs}, scale ${opts.scale}, ${opts.rounds} rounds; runner on node ${node.version}`);
  for (const l of lines) console.log(l);
  const file = path.join(__dirname, `results-shapes-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), machine: { cores: os.cpus().length, loadavg: os.loadavg() }, options: opts, shapes: report }, null, 2) + '\n');
  console.log(`\nwritten to ${path.relative(path.resolve(__dirname, '..'), file)}`);
}

function lbEnv(c: ShapeCluster): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: c.pg.url(c.database),
    LIFEBOAT_TMPDIR: WORK,
    NODE_OPTIONS: RUNNER_NODE_OPTIONS,
  };
}

function pgEnv(c: ShapeCluster, db: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, PGHOST: c.pg.host, PGPORT: String(c.pg.port), PGUSER: c.pg.user, PGPASSWORD: c.pg.password, PGDATABASE: db };
}

async function settle(c: ShapeCluster): Promise<void> {
  await c.pg.query('CHECKPOINT');
  await new Promise((r) => setTimeout(r, 1000));
}

async function run(label: string, argv: string[], env: NodeJS.ProcessEnv, stdoutFile?: string): Promise<Figures> {
  const f = await measure(label, argv, { env, ...(stdoutFile ? { stdoutFile } : {}) });
  if (f.exitCode !== 0) throw new Error(`${label} failed: ${f.stderrTail}`);
  log(`  ${label}: ${f.wallSeconds} s, tree RSS ${f.peakTreeRssMiB} MiB`);
  return f;
}

function backupHasJobs(cli: string, nodePath: string): boolean {
  return /--jobs/.test(spawnSync(nodePath, [cli, 'backup', '--help'], { encoding: 'utf8' }).stdout ?? '');
}

async function lifeboatBackup(c: ShapeCluster, opts: ShapeOptions, cli: string, nodePath: string, storage: string): Promise<{ f: Figures; id: string; stored: number }> {
  const out = path.join(WORK, 'backup.json');
  // --jobs where this runner has it (backups in parallel workers); one pg_dump otherwise.
  const jobs = backupHasJobs(cli, nodePath) ? ['--jobs', String(opts.jobs)] : [];
  const f = await run(`lifeboat backup${jobs.length ? ` --jobs ${opts.jobs}` : ''}`, [nodePath, cli, 'backup', '--storage', storage, '--class', 'manual', '--json', ...jobs], lbEnv(c), out);
  const m = JSON.parse(readFileSync(out, 'utf8')) as { id: string; payload: { storedBytes: number } };
  return { f, id: m.id, stored: m.payload.storedBytes };
}

async function lifeboatRestore(c: ShapeCluster, opts: ShapeOptions, cli: string, nodePath: string, storage: string, id: string): Promise<Figures> {
  const target = `${c.database}_lifeboat`;
  await settle(c);
  const f = await run(`lifeboat restore --jobs ${opts.jobs}`, [nodePath, cli, 'restore', id, '--storage', storage, '--target-url', c.pg.url(target), '--create', '--jobs', String(opts.jobs)], lbEnv(c));
  await c.pg.query(`DROP DATABASE "${target}"`);
  return f;
}

async function lifeboatOnce(c: ShapeCluster, opts: ShapeOptions, cli: string, nodePath: string): Promise<[Figures, Figures]> {
  const storage = path.join(WORK, 'storage-4x');
  const b = await lifeboatBackup(c, opts, cli, nodePath, storage);
  const r = await lifeboatRestore(c, opts, cli, nodePath, storage, b.id);
  rmSync(storage, { recursive: true, force: true });
  return [b.f, r];
}

async function compare(shape: Shape, c: ShapeCluster, opts: ShapeOptions, cli: string, nodePath: string): Promise<{ lines: string[]; rows: Record<string, Row>; ratios: Record<string, { median: number; min: number; max: number }>; rss4x?: { backupMiB: number; restoreMiB: number } }> {
  const n = String(opts.jobs);
  const bin = (t: string): string => path.join(c.pg.binDir, t);
  const [size] = await c.pg.query<{ size: string }>(`SELECT pg_size_pretty(pg_database_size('${c.database}')) AS size`);
  log(`shape ${shape} (${size!.size}):`);
  const dumpFile = path.join(WORK, `${shape}.pgc`);
  const rows: Record<string, Row> = {};
  const add = (key: string, f: Figures): void => void (rows[key] ??= { label: f.label, runs: [] }).runs.push(f);
  const stored: Record<string, number[]> = { lifeboat: [], pgbackrest: [] };
  await run('pg_dump -Fc > file', [bin('pg_dump'), '-Fc', '--no-password'], pgEnv(c, c.database), dumpFile);
  const storage = path.join(WORK, 'storage');
  for (let round = 1; round <= opts.rounds; round++) {
    log(` round ${round} of ${opts.rounds}`);
    await settle(c);
    const fd = path.join(WORK, `${shape}.dir`);
    add('pgDumpFd', await run(`pg_dump -Fd -j${n}`, [bin('pg_dump'), '-Fd', `-j${n}`, '--no-password', '-f', fd], pgEnv(c, c.database)));
    rmSync(fd, { recursive: true, force: true });

    await settle(c);
    add('pgbackrestBackup', await run(`pgBackRest full backup (zstd, ${n} processes)`, asPostgres(['pgbackrest', `--config=${c.pgbackrestConf}`, `--stanza=${STANZA}`, '--type=full', 'backup']), { PATH: process.env.PATH }));
    const pb = lastPgbackrestBackup(c.pgbackrestConf);
    stored.pgbackrest!.push(pb.storedBytes);

    await settle(c);
    const b = await lifeboatBackup(c, opts, cli, nodePath, storage);
    add('lifeboatBackup', b.f);
    stored.lifeboat!.push(b.stored);

    const pgRestore = async (): Promise<void> => {
      await settle(c);
      const target = `${c.database}_pg_restore`;
      const createThenRestore = `"$0" --template=template0 --no-password "$2" && exec "$1" -j${n} --no-password -d "$2" "$3"`;
      add('pgRestore', await run(`createdb, then pg_restore -j${n} from the -Fc file`, ['sh', '-c', createThenRestore, bin('createdb'), bin('pg_restore'), target, dumpFile], pgEnv(c, c.database)));
      await c.pg.query(`DROP DATABASE "${target}"`);
    };
    const ours = async (): Promise<void> => add('lifeboatRestore', await lifeboatRestore(c, opts, cli, nodePath, storage, b.id));
    // The two restores swap places every round: whatever the one before leaves behind (the files of thousands of
    // dropped tables, say) then weighs on each alike.
    for (const step of round % 2 === 1 ? [pgRestore, ours] : [ours, pgRestore]) await step();
    rmSync(storage, { recursive: true, force: true });

    await settle(c);
    add('pgbackrestRestore', await pgbackrestRestore(c, pb.label));
  }
  rmSync(dumpFile, { force: true });

  const perRound = (a: string, b: string, pick: (f: Figures) => number = (f) => f.wallSeconds): number[] =>
    rows[a]!.runs.map((f, i) => pick(f) / pick(rows[b]!.runs[i]!));
  const spread = (xs: number[]): { median: number; min: number; max: number } => ({ median: r2(median(xs)), min: r2(Math.min(...xs)), max: r2(Math.max(...xs)) });
  const ratios = {
    restoreVsPgRestore: spread(perRound('lifeboatRestore', 'pgRestore')),
    restoreVsPgbackrestRestore: spread(perRound('lifeboatRestore', 'pgbackrestRestore')),
    backupVsPgDumpFd: spread(perRound('lifeboatBackup', 'pgDumpFd')),
    backupVsPgbackrest: spread(perRound('lifeboatBackup', 'pgbackrestBackup')),
    storedVsPgbackrest: spread(stored.lifeboat!.map((x, i) => x / stored.pgbackrest![i]!)),
  };
  const targets: Record<string, string> = {
    restoreVsPgRestore: '<= 1.0',
    backupVsPgDumpFd: '< 1.0',
    backupVsPgbackrest: '<= 1.0',
    storedVsPgbackrest: '<= 0.8',
  };
  const w = Math.max(...Object.values(rows).map((r) => r.label.length));
  const lines = [`\n${shape} (${size!.size}; medians of ${opts.rounds} rounds, each round's wall in brackets):`];
  lines.push(`  ${''.padEnd(w)}  ${'wall s'.padStart(8)}  ${'cpu s'.padStart(8)}  ${'tree RSS MiB'.padStart(12)}  runs`);
  for (const r of Object.values(rows)) {
    const wall = median(r.runs.map((f) => f.wallSeconds));
    const cpu = median(r.runs.map((f) => f.cpuSeconds));
    const rss = Math.max(...r.runs.map((f) => f.peakTreeRssMiB));
    lines.push(`  ${r.label.padEnd(w)}  ${wall.toFixed(2).padStart(8)}  ${cpu.toFixed(2).padStart(8)}  ${rss.toFixed(1).padStart(12)}  [${r.runs.map((f) => f.wallSeconds.toFixed(2)).join(', ')}]`);
  }
  lines.push(`  stored: lifeboat ${(median(stored.lifeboat!) / 2 ** 20).toFixed(1)} MiB, pgBackRest ${(median(stored.pgbackrest!) / 2 ** 20).toFixed(1)} MiB`);
  lines.push('  ratios: median [min, max] (target)');
  for (const [k, v] of Object.entries(ratios)) lines.push(`    ${k.padEnd(28)} ${v.median.toFixed(2)} [${v.min.toFixed(2)}, ${v.max.toFixed(2)}]  ${targets[k] ?? ''}`);
  return { lines, rows, ratios };
}

/**
 * pgBackRest restore into a folder of its own, then a server on it, until it answers a query. Recovery refuses a
 * lower max_locks_per_transaction than the source's, so the server gets the shape cluster's.
 */
async function pgbackrestRestore(c: ShapeCluster, label: string): Promise<Figures> {
  const dir = path.join(WORK, 'pgbackrest-restore');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  chmodSync(dir, 0o700);
  chownToPostgres(dir);
  const port = await freePort();
  const bin = (t: string): string => path.join(c.pg.binDir, t);
  const script = [
    'set -e',
    `pgbackrest --config=${c.pgbackrestConf} --stanza=${STANZA} --pg1-path=${dir} --set=${label} --type=immediate --target-action=promote --archive-mode=off restore`,
    `${bin('pg_ctl')} -D ${dir} -o "-c port=${port} -c listen_addresses= -c unix_socket_directories=${WORK} -c archive_mode=off -c max_locks_per_transaction=${MAX_LOCKS}" -l ${dir}/server.log -w -t 600 start >/dev/null`,
    `until ${bin('psql')} -h ${WORK} -p ${port} -U postgres -d postgres -Atc 'SELECT 1' >/dev/null 2>&1; do sleep 0.05; done`,
  ].join('\n');
  try {
    return await run('pgBackRest restore, until the server answers a query', asPostgres(['sh', '-c', script]), { PATH: process.env.PATH });
  } finally {
    await measure('stop', asPostgres([bin('pg_ctl'), '-D', dir, '-m', 'immediate', '-w', 'stop']), { env: { PATH: process.env.PATH } });
    rmSync(dir, { recursive: true, force: true });
  }
}
