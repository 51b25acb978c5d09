/** Starts bench/s3-server.ts as a child process and hands back its endpoint, environment and CPU reading. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
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
