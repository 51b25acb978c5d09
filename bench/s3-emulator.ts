/**
 * Starts bench/s3-server.ts as a child process and hands back its endpoint, environment and CPU reading.
 *
 * The emulator stands in for a store on other machines, so it should cost this one as little as it can:
 * - its objects go to memory (/dev/shm where there is one): s3rver writes every byte twice, as parts and then, on
 *   completion, as the whole object. On disk that completion took 1.35 s of a 1.19 GiB backup, in /dev/shm 1.02 s;
 * - node runs with the runner's own flags (runner/Dockerfile), which keep its GC from the full-GC spiral the
 *   Dockerfile describes: s3rver's CPU per backup was 4.05-4.54 s with node's defaults, 3.14-3.26 s with them
 *   (three backups each, on disk).
 * Its CPU is still measured and reported beside each S3 row.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { RUNNER_NODE_OPTIONS } from './build';
import { treeCpuSeconds } from './measure';

export interface ExternalS3 {
  kind: 's3rver' | 'moto' | 'sink';
  endpoint: string;
  env: NodeJS.ProcessEnv;
  /** CPU seconds the emulator (and its children) used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export async function startExternalS3(kind: 's3rver' | 'moto' | 'sink', bucket: string): Promise<ExternalS3> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 's3-server.ts'), kind, bucket], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: RUNNER_NODE_OPTIONS, TMPDIR: memoryBackedTmp() },
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
    cpuSeconds: () => treeCpuSeconds(child.pid!),
    async stop() {
      child.stdin!.end();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000)).then(() => child.kill('SIGKILL'))]);
    },
  };
}

function memoryBackedTmp(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return os.tmpdir();
  }
}
