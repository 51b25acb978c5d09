/**
 * What every command function gets injected: no command reads process.env, writes to process.stdout or calls
 * Date.now() directly, so tests call commands as functions with their own collaborators.
 */
import type { Writable } from 'node:stream';
import type { EventName } from './contract/events';
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
  /**
   * Told the run's final event after it is logged and awaited before the run ends: notifications (`--notify`)
   * and the scheduler, which reads each job's outcome from it.
   */
  onFinalEvent?: (event: FinalEvent) => Promise<void> | void;
}

/** The final event of a run as it was logged: its name, severity, message and fields. */
export interface FinalEvent {
  event: EventName;
  severity: 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}
