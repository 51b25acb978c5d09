/**
 * The thin CLI: builds the commander program, parses, and maps errors to exit codes. Each subcommand lives in
 * its own file under runner/cli/ and only translates flags into a command function's options.
 */
import { Command, CommanderError } from 'commander';
import { createLogger } from '../log';
import { redact } from '../redact';
import type { RunContext } from '../context';
import { COMMANDS } from './commands';

export const VERSION = '0.1.0';

export function buildProgram(ctx: RunContext, setExit: (code: number) => void): Command {
  const program = new Command('lifeboat')
    .description('PostgreSQL and Redis backups you can prove restore')
    .version(VERSION)
    .showHelpAfterError('(run "lifeboat --help" for usage)')
    .configureOutput({
      writeOut: (s) => void ctx.stdout.write(s),
      writeErr: (s) => void ctx.stderr.write(redact(s)),
    })
    .exitOverride();
  for (const register of COMMANDS) register(program, ctx, setExit);
  return program;
}

export function defaultContext(): RunContext {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (!controller.signal.aborted) controller.abort(new Error(`interrupted by ${sig}`));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    logger: createLogger(),
    now: () => new Date(),
    signal: controller.signal,
  };
}

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: string[], ctx: RunContext = defaultContext()): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(ctx, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      if (e.exitCode === 0) return 0;
      return 2;
    }
    ctx.stderr.write(`lifeboat: ${redact((e as Error)?.message ?? String(e))}\n`);
    return 1;
  }
}
