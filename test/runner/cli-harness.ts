/**
 * Running the lifeboat CLI in tests: in-process through main(argv, ctx) with captured stdout/stderr and JSON
 * logs (fast), or as a real subprocess (`node --import tsx runner/cli.ts`) where process behaviour matters.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../runner/cli/main';
import { createLogger } from '../../runner/log';
import type { RunContext } from '../../runner/context';

export interface CliResult {
  code: number;
  stdout: string;
  /** Human notices and the structured log lines (JSON), in order. */
  stderr: string;
}

function capture(): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv = {}, signal?: AbortSignal): Promise<CliResult> {
  const out = capture();
  const err = capture();
  const ctx: RunContext = {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdout: out.stream,
    stderr: err.stream,
    logger: createLogger({ destination: err.stream, pretty: false }),
    now: () => new Date(),
    signal: signal ?? new AbortController().signal,
  };
  const code = await main(argv, ctx);
  // pino writes asynchronously through the stream; let it drain.
  await new Promise((r) => setImmediate(r));
  return { code, stdout: out.text(), stderr: err.text() };
}

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The CLI as a real process. `onStart` gets the child (to signal it). */
export function runCliProcess(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
  onStart?: (child: import('node:child_process').ChildProcess) => void,
  /** A command prefix, e.g. ['runuser', '-u', 'nobody', '--'] to run as another user. */
  prefix: string[] = [],
): Promise<CliResult & { signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const cmd = [...prefix, process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'runner', 'cli.ts'), ...argv];
    const child = spawn(cmd[0]!, cmd.slice(1), {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr }));
    onStart?.(child);
  });
}

/** The structured final event of a run (the last JSON line with an `event` field). */
export function finalEvent(stderr: string): Record<string, unknown> | undefined {
  const events = stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((o) => typeof o.event === 'string');
  return events[events.length - 1];
}
