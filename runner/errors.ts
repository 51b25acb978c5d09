/**
 * One error type for everything the runner reports on purpose. `exitCode` 2 means bad usage or config
 * (retrying will not help); 1 means a runtime failure (a job platform may retry). The CLI maps errors to exit
 * codes in one place (runner/cli/main.ts).
 */
export type ExitCode = 1 | 2;

export class LifeboatError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly hint?: string;

  constructor(code: string, message: string, opts: { exitCode?: ExitCode; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LifeboatError';
    this.code = code;
    this.exitCode = opts.exitCode ?? 1;
    this.hint = opts.hint;
  }
}

/** Bad usage or configuration: exit 2. */
export function usageError(code: string, message: string, hint?: string): LifeboatError {
  return new LifeboatError(code, message, { exitCode: 2, hint });
}

/** A failure at run time: exit 1. */
export function runtimeError(code: string, message: string, hint?: string, cause?: unknown): LifeboatError {
  return new LifeboatError(code, message, { exitCode: 1, hint, cause });
}

export function isLifeboatError(e: unknown): e is LifeboatError {
  return e instanceof LifeboatError;
}

/** The one line shown to a person: message, then the hint. */
export function describeError(e: unknown): string {
  if (isLifeboatError(e)) return e.hint ? `${e.message}. ${e.hint}` : e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
