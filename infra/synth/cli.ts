/**
 * `npm run synth -- <stack> [--json]`: evaluates the program for a stack offline and runs the policy pack over
 * what it recorded. Exit 0 clean, 1 on a mandatory violation (or a program failure), 2 on bad config or usage.
 * No credentials and no network are used.
 */
import { Command, CommanderError } from 'commander';
import { describeError, isLifeboatError } from '../../runner/errors';
import { synthStack, type SynthResult } from './synth';
import type { PolicyViolation, RecordedResource } from './recorded';

type RunPolicies = (resources: RecordedResource[], opts?: Record<string, unknown>) => Promise<PolicyViolation[]>;

/** The policy pack's in-process runner, or null while the pack does not exist yet. */
async function loadPolicyRunner(): Promise<RunPolicies | null> {
  const target = '../../policies/run';
  try {
    return ((await import(target)) as { runPolicies: RunPolicies }).runPolicies;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('policies/run')) return null;
    throw e;
  }
}

function printText(out: NodeJS.WritableStream, result: SynthResult, violations: PolicyViolation[] | null): void {
  out.write(`stack ${result.stack}: ${result.resources.length} resources\n\n`);
  for (const r of result.resources) {
    out.write(`${r.urn}\n`);
    out.write(`  type: ${r.type}  name: ${r.name}${r.custom ? '' : '  (component)'}${r.importId ? `  import: ${r.importId}` : ''}\n`);
    if (r.parent) out.write(`  parent: ${r.parent}\n`);
    if (r.dependencies.length) out.write(`  dependencies:\n${r.dependencies.map((d) => `    ${d}\n`).join('')}`);
    if (Object.keys(r.inputs).length) out.write(`  inputs: ${JSON.stringify(r.inputs, null, 2).replace(/\n/g, '\n  ')}\n`);
    out.write('\n');
  }
  out.write(`outputs: ${JSON.stringify(result.outputs, null, 2)}\n\n`);
  if (violations === null) out.write('policy pack not available\n');
  else if (violations.length === 0) out.write('policies: no violations\n');
  else {
    out.write(`policies: ${violations.length} violation(s)\n`);
    for (const v of violations) out.write(`  [${v.enforcementLevel}] ${v.policyName}: ${v.message}${v.urn ? ` (${v.urn})` : ''}\n`);
  }
}

export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const program = new Command('synth')
    .argument('<stack>', 'stack name: reads Pulumi.<stack>.yaml')
    .option('--json', 'print { stack, resources, violations } as JSON')
    .option('--stack-file <file>', 'read this stack file instead of Pulumi.<stack>.yaml')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out.write(s), writeErr: (s) => err.write(s) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  const stack = program.args[0]!;
  const opts = program.opts<{ json?: boolean; stackFile?: string }>();
  let result: SynthResult;
  try {
    result = await synthStack(stack, { stackFile: opts.stackFile });
  } catch (e) {
    err.write(`synth: ${describeError(e)}\n`);
    return isLifeboatError(e) ? e.exitCode : 1;
  }
  const runPolicies = await loadPolicyRunner();
  const violations = runPolicies ? await runPolicies(result.resources) : null;
  if (opts.json) out.write(`${JSON.stringify({ stack, resources: result.resources, violations: violations ?? [], outputs: result.outputs }, null, 2)}\n`);
  else printText(out, result, violations);
  if (violations === null && opts.json) err.write('policy pack not available\n');
  return violations?.some((v) => v.enforcementLevel === 'mandatory') ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    // Not process.exit(): it would cut a large --json output written to a pipe short.
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`synth: ${describeError(e)}\n`);
      process.exit(1);
    },
  );
}
