/**
 * `npm run engine -- <command>`: the real Pulumi engine on this repository's stacks, offline.
 *
 *   build [--force]                      build the CLI (and write the Node.js plugins) into .cache/engine/pulumi-<version>
 *   preview <stack> [--state DIR] [-- pulumi args]   preview with the policy pack enforcing
 *   up <stack> [--state DIR] [-- pulumi args]        deploy to the test-double providers, pack enforcing
 *   destroy <stack> [--state DIR] [-- pulumi args]
 *   pulumi <stack> [--state DIR] -- <pulumi args>    any other pulumi command on that stack (e.g. stack output)
 *
 * The state lives in a local file backend under --state (default: a folder in the system's temp folder, kept
 * between runs so `up` then `destroy` work). See docs/engine.md for what a run checks and what it cannot.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildEngine } from './build';
import { REPO_ROOT } from './paths';
import { openSession, prepareStack, pulumi } from './session';

const USAGE = 'usage: npm run engine -- build [--force] | (preview|up|destroy|pulumi) <stack> [--state DIR] [-- <pulumi args>]';

function fail(message: string, code: number): never {
  console.error(`engine: ${message}`);
  process.exit(code);
}

function defaultStateDir(): string {
  const key = createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 12);
  return path.join(tmpdir(), `lifeboat-engine-${key}`);
}

function main(argv: string[]): number {
  const dashes = argv.indexOf('--');
  const own = dashes === -1 ? argv : argv.slice(0, dashes);
  const passThrough = dashes === -1 ? [] : argv.slice(dashes + 1);
  const [command, stack, ...rest] = own;
  if (command === 'build') {
    buildEngine({ force: own.includes('--force') });
    return 0;
  }
  if (!['preview', 'up', 'destroy', 'pulumi'].includes(command ?? '')) fail(`unknown command ${command ?? '(none)'}; ${USAGE}`, 2);
  if (!stack || stack.startsWith('-')) fail(`${command} needs a stack name (a Pulumi.<stack>.yaml in the repository); ${USAGE}`, 2);
  if (command === 'pulumi' && passThrough.length === 0) fail(`pulumi needs the pulumi command after \`--\`, e.g. -- stack output; ${USAGE}`, 2);
  let stateDir = defaultStateDir();
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--state' && rest[i + 1]) stateDir = path.resolve(rest[++i]);
    else fail(`unexpected argument ${rest[i]}; ${USAGE}`, 2);
  }
  buildEngine();
  const session = openSession(stateDir);
  console.error(`engine: stack ${stack}, state in ${session.backendDir} (test-double providers, see docs/engine.md)`);
  prepareStack(session, stack);
  const policy = ['--policy-pack', session.policyPack];
  const args =
    command === 'preview'
      ? ['preview', '--stack', stack, ...policy, ...passThrough]
      : command === 'up'
        ? ['up', '--stack', stack, '--yes', ...policy, ...passThrough]
        : command === 'destroy'
          ? ['destroy', '--stack', stack, '--yes', ...passThrough]
          : // `--stack` belongs to the subcommand, so it goes after it.
            [...passThrough, '--stack', stack];
  return pulumi(session, args).status;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  fail((e as Error).message, 1);
}
