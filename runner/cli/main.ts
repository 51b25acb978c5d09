/**
 * The thin CLI: builds the commander program, parses, and maps errors to exit codes. Each subcommand lives in
 * its own file under runner/cli/ and only translates flags into a command function's options.
 */
import { Command, CommanderError } from 'commander';
import { EVENTS, type EventName } from '../contract/events';
import { createLogger, logEvent } from '../log';
import { redact } from '../redact';
import type { RunContext } from '../context';
import { tellFinalEvent } from './action';
import { COMMANDS } from './commands';
import { addNotifyOption } from './notify';
import { COMMAND_HELP, PROGRAM_HELP, type HelpTopic } from './help-text';

export const VERSION = '0.1.0';

export function buildProgram(ctx: RunContext, setExit: (code: number) => void): Command {
  const program = new Command('lifeboat')
    .description('PostgreSQL and Redis backups you can prove restore')
    .version(VERSION)
    .configureOutput({
      writeOut: (s) => void ctx.stdout.write(s),
      writeErr: (s) => void ctx.stderr.write(redact(s)),
      // Bad usage gets one line, like every other failure: what was wrong, then where the usage is.
      outputError: (s, write) => write(redact(`lifeboat: ${usageLine(s)}; run "lifeboat <command> --help" for usage\n`)),
    })
    .exitOverride();
  for (const register of COMMANDS) register(program, ctx, setExit, (argv, jobCtx) => main(argv, jobCtx));
  addNotifyOption(program, ctx);
  if (ctx.env !== process.env) program.hook('preAction', (_program, action) => optionsFromContextEnv(action, ctx.env));
  addLongHelp(program);
  return program;
}

/**
 * commander fills `Option.env()` flags from process.env. A CLI run in-process with an environment of its own (each
 * scheduled job: its own DATABASE_URL, LIFEBOAT_SOURCE, ...) must see that environment instead, or the daemon's
 * variables would win over the job's. Flags given on the command line keep priority, as in commander.
 */
function optionsFromContextEnv(action: Command, env: NodeJS.ProcessEnv): void {
  for (const o of action.options) {
    if (!o.envVar) continue;
    const key = o.attributeName();
    const source = action.getOptionValueSource(key);
    if (source !== undefined && source !== 'default' && source !== 'env') continue;
    const value = env[o.envVar];
    if (value !== undefined) {
      const parsed = o.required || o.optional ? (o.parseArg ? o.parseArg(value, o.defaultValue as unknown) : value) : true;
      action.setOptionValueWithSource(key, parsed, 'env');
    } else if (source === 'env') {
      action.setOptionValueWithSource(key, o.defaultValue, 'default');
    }
  }
}

/**
 * The long help (runner/cli/help-text.ts) after the options: the program's on `lifeboat --help`, each command's
 * on `lifeboat <command> --help`, found by its path (`redis backup` is the topic `redis-backup`).
 */
function addLongHelp(program: Command): void {
  program.addHelpText('after', PROGRAM_HELP);
  const visit = (cmd: Command, prefix: string): void => {
    for (const sub of cmd.commands) {
      const topic = `${prefix}${sub.name()}`;
      if (sub.commands.length) visit(sub, `${topic}-`);
      else if (topic in COMMAND_HELP) {
        sub.addHelpText('after', `${COMMAND_HELP[topic as HelpTopic]}\n\nWhat every command shares (environment, storage URLs, exit codes): lifeboat --help`);
      }
    }
  };
  visit(program, '');
}

/** commander's "error: unknown option '--x'\n(Did you mean --y?)" as one line. */
export function usageLine(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim().replace(/^error: /, ''))
    .filter(Boolean)
    .map((l) => l.replace(/^\((.*)\)$/, (_m, inner: string) => `(${inner.charAt(0).toLowerCase()}${inner.slice(1)})`))
    .join(' ');
}

/** The failure event of each command, so a run refused for bad usage still ends with its event. */
const USAGE_FAILURE_EVENTS: Record<string, EventName> = {
  backup: EVENTS.backupFailed,
  list: EVENTS.listFailed,
  restore: EVENTS.restoreFailed,
  verify: EVENTS.verifyFailed,
  drill: EVENTS.drillFailed,
  clone: EVENTS.cloneFailed,
  prune: EVENTS.pruneFailed,
  status: EVENTS.statusUnhealthy,
  'redis backup': EVENTS.redisBackupFailed,
  'redis restore': EVENTS.redisRestoreFailed,
  'redis verify': EVENTS.redisVerifyFailed,
  schedule: EVENTS.scheduleFailed,
  report: EVENTS.reportFailed,
  'pitr init': EVENTS.pitrInitFailed,
  'pitr backup': EVENTS.pitrBackupFailed,
  'pitr restore': EVENTS.pitrRestoreFailed,
  'pitr drill': EVENTS.pitrDrillFailed,
  'pitr heartbeat': EVENTS.pitrHeartbeatFailed,
};

function usageFailureEvent(argv: readonly string[]): EventName | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  return USAGE_FAILURE_EVENTS[`${words[0]} ${words[1]}`] ?? USAGE_FAILURE_EVENTS[words[0] ?? ''];
}

export function defaultContext(): RunContext {
  const controller = new AbortController();
  // The first signal aborts the run, which then stops its children and publishes nothing; a second one ends the
  // process at once (the listeners go, and the signal's default action follows). Listening with `on`, not `once`:
  // signal-exit (under proper-lockfile, loaded by the schedule daemon) re-raises a signal it finds no other
  // listener for, which killed the daemon before it could stop its jobs once a `once` listener had gone.
  const onSignal = (sig: NodeJS.Signals): void => {
    if (!controller.signal.aborted) {
      controller.abort(new Error(`interrupted by ${sig}`));
      return;
    }
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    process.kill(process.pid, sig);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // A reader that went away (`lifeboat list | head`) is not a failure of the command, which runs to its end (a
  // backup still publishes); without a listener Node would throw EPIPE from the stream, with a stack trace.
  for (const out of [process.stdout, process.stderr]) {
    out.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
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
      const event = usageFailureEvent(argv);
      if (event) {
        const fields = { errorCode: e.code, exitCode: 2 };
        const message = redact(usageLine(e.message));
        logEvent(ctx.logger, event, fields, message, 'error');
        await tellFinalEvent(ctx, { event, severity: 'error', message, fields });
        // pino writes through a stream: let the line out before the caller exits.
        await new Promise((r) => setImmediate(r));
      }
      return 2;
    }
    ctx.stderr.write(`lifeboat: ${redact((e as Error)?.message ?? String(e))}\n`);
    return 1;
  }
}
