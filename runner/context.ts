/**
 * What every command function gets injected: no command reads process.env, writes to process.stdout or calls
 * Date.now() directly, so tests call commands as functions with their own collaborators.
 */
import type { Writable } from 'node:stream';
import type { Logger } from './log';

export interface Output extends Pick<Writable, 'write'> {
  isTTY?: boolean;
}

export interface RunContext {
  env: NodeJS.ProcessEnv;
  /** The command's own output: ids, tables, JSON. */
  stdout: Output;
  /** Progress and human notices (logs go through `logger`). */
  stderr: Output;
  logger: Logger;
  now: () => Date;
  /** Aborted on SIGTERM / SIGINT: long operations stop, clean up and publish nothing. */
  signal: AbortSignal;
}
