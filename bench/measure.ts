/**
 * Measuring one command: wall time, CPU (user + system, the command and every child it waited for, from GNU
 * time), peak RSS of the whole process tree (the sum of VmRSS over all descendants, sampled every 50 ms from
 * /proc, so pg_dump + zstd + node count together), and the largest single process's peak (GNU time's %M).
 * The PostgreSQL server's own backends are not part of the tree and are not counted, for any method.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Figures {
  label: string;
  exitCode: number;
  wallSeconds: number;
  cpuSeconds: number;
  /** Peak of the summed RSS of the process tree, MiB (sampled). */
  peakTreeRssMiB: number;
  /** Peak RSS of the largest single process, MiB (GNU time %M). */
  maxProcessRssMiB: number;
  archiveBytes?: number;
  /** CPU seconds an S3 emulator (its own process) spent during the command: work a real store does elsewhere. */
  emulatorCpuSeconds?: number;
  /** Wall seconds of each run, when the row is the median of several. */
  runs?: number[];
  stderrTail?: string;
}

export const TIME_BIN = '/usr/bin/time';

export function haveGnuTime(): boolean {
  return existsSync(TIME_BIN);
}

function childrenOf(): Map<number, number[]> {
  const kids = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = kids.get(ppid) ?? [];
      list.push(Number(d));
      kids.set(ppid, list);
    } catch {
      /* the process ended meanwhile */
    }
  }
  return kids;
}

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Private (not shared) resident memory: what a process adds to the machine's use. */
function privateKiB(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    let sum = 0;
    for (const m of text.matchAll(/^Private_(?:Clean|Dirty):\s+(\d+) kB/gm)) sum += Number(m[1]);
    return sum;
  } catch {
    return 0;
  }
}

/**
 * Summed RSS of every descendant of `root` (not root itself: that is GNU time, a few hundred KiB). A child forked
 * but not yet exec'd (same command as its parent: node between fork() and exec of zstd or pg_restore) shares
 * all its parent's pages copy-on-write, and its RSS would count them a second time for that instant (a sample
 * caught node's fork at +44 MiB while node was at 109); only its private pages count.
 */
function treeRssKiB(root: number): number {
  const kids = childrenOf();
  let sum = 0;
  const stack = (kids.get(root) ?? []).map((pid) => ({ pid, parentComm: '' }));
  while (stack.length) {
    const { pid, parentComm } = stack.pop()!;
    const comm = commOf(pid);
    sum += comm !== '' && comm === parentComm ? privateKiB(pid) : rssKiB(pid);
    stack.push(...(kids.get(pid) ?? []).map((c) => ({ pid: c, parentComm: comm })));
  }
  return sum;
}

export async function measure(
  label: string,
  argv: string[],
  opts: { env?: NodeJS.ProcessEnv; stdoutFile?: string; cwd?: string } = {},
): Promise<Figures> {
  const timeOut = path.join(os.tmpdir(), `lifeboat-bench-time-${process.pid}-${Date.now()}`);
  const out = opts.stdoutFile ? openSync(opts.stdoutFile, 'w') : 'ignore';
  const started = process.hrtime.bigint();
  const child = spawn(TIME_BIN, ['-f', '%e %U %S %M', '-o', timeOut, '--', ...argv], {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: ['ignore', out, 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-3000)));
  let peak = 0;
  const sampler = setInterval(() => {
    if (child.pid) peak = Math.max(peak, treeRssKiB(child.pid));
  }, 50);
  const code: number = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  clearInterval(sampler);
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  if (typeof out === 'number') closeSync(out);
  const [, user, sys, maxKiB] = readFileSync(timeOut, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as number[];
  rmSync(timeOut, { force: true });
  return {
    label,
    exitCode: code,
    wallSeconds: round(wall),
    cpuSeconds: round(user! + sys!),
    peakTreeRssMiB: round(peak / 1024),
    maxProcessRssMiB: round(maxKiB! / 1024),
    ...(code !== 0 ? { stderrTail: stderr } : {}),
  };
}

/**
 * CPU seconds (user + system) used so far by `root` and its live descendants, from /proc (clock ticks of 1/100 s
 * on Linux). Used for a long-running helper such as the S3 emulator: read before and after a measured command.
 */
export function treeCpuSeconds(root: number): number {
  const kids = childrenOf();
  let ticks = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
    } catch {
      /* ended meanwhile */
    }
    stack.push(...(kids.get(pid) ?? []));
  }
  return round(ticks / 100);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
