/**
 * Starts bench/s3-server.ts as a child process and hands back its endpoint, environment and CPU reading.
 *
 * The emulator stands in for a store on other machines, so it should cost this one as little as it can:
 * - its objects go to memory, in /dev/shm when that has room for them (else the temp folder; the place is in each
 *   results file): s3rver writes every byte twice, as parts and then, on completion, as the whole object.
 *   Completing the 276 MiB object of the 1.19 GiB database took 1.35 s on disk, 1.02 s in /dev/shm;
 * - node runs with the runner's own flags (runner/Dockerfile): s3rver's CPU per backup was 4.05-4.54 s with node's
 *   defaults, 3.14-3.26 s with them (three backups each, objects on disk; its GC was not traced). moto_server is
 *   Python: of these it only takes TMPDIR. A NODE_OPTIONS of the caller's own does not reach the emulator.
 * Its CPU is still measured and reported beside each S3 row.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { RUNNER_NODE_OPTIONS } from './build';
import { treeCpuSeconds } from './measure';

export interface ExternalS3 {
  kind: 's3rver' | 'moto' | 'sink';
  endpoint: string;
  env: NodeJS.ProcessEnv;
  /** Where the emulator keeps its objects. */
  tmpdir: string;
  /** CPU seconds the emulator (and its children) used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export async function startExternalS3(kind: 's3rver' | 'moto' | 'sink', bucket: string): Promise<ExternalS3> {
  const tmpdir = emulatorTmpdir();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 's3-server.ts'), kind, bucket], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: RUNNER_NODE_OPTIONS, TMPDIR: tmpdir },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (c) => reject(new Error(`${kind} emulator exited (${c}) before it was ready`)));
  });
  const ready = JSON.parse(first) as { endpoint: string; env: NodeJS.ProcessEnv };
  return {
    kind,
    endpoint: ready.endpoint,
    env: ready.env,
    tmpdir,
    cpuSeconds: () => treeCpuSeconds(child.pid!),
    async stop() {
      child.stdin!.end();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000)).then(() => child.kill('SIGKILL'))]);
    },
  };
}

/**
 * The bench's S3 backups stay in the emulators until they stop: 276 MiB per round (three by default) in s3rver and
 * in moto, with a second copy while s3rver completes one. /dev/shm is used only with 4 GiB free, room for the
 * default rounds to spare (a container's default /dev/shm is 64 MiB); LIFEBOAT_BENCH_EMULATOR_TMPDIR chooses the
 * place outright, e.g. for many more rounds.
 */
export function emulatorTmpdir(env: NodeJS.ProcessEnv = process.env, shmFree: number | null = shmFreeBytes()): string {
  const chosen = env.LIFEBOAT_BENCH_EMULATOR_TMPDIR;
  if (chosen) return chosen;
  return shmFree !== null && shmFree >= SHM_NEEDED ? '/dev/shm' : os.tmpdir();
}

/** Bytes free in /dev/shm, or null where there is no writable one. */
function shmFreeBytes(): number | null {
  try {
    accessSync('/dev/shm', constants.W_OK);
    const fs = statfsSync('/dev/shm');
    return fs.bavail * fs.bsize;
  } catch {
    return null;
  }
}

export const SHM_NEEDED = 4 * 1024 ** 3;
