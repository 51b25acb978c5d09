/**
 * The contract between the infra and the runner: every job that an example stack schedules (Cloud Run jobs,
 * ECS task definitions, Kubernetes CronJobs) must run a command line that the real CLI parses, and every
 * environment variable it sets must be one that command reads. A renamed flag or variable on either side fails
 * here instead of in a 3 a.m. backup job.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { buildProgram } from '../../runner/cli/main';
import { ENV, GLOBAL_ENV } from '../../runner/contract/env';
import type { RunContext } from '../../runner/context';
import { silentLogger } from '../../runner/log';
import { synthStack } from '../../infra/synth/synth';
import type { RecordedResource } from '../../infra/synth/recorded';

interface JobInvocation {
  stack: string;
  resource: string;
  args: string[];
  env: string[];
}

const stacks = readdirSync('.')
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => Boolean(s))
  .sort();

/** The parts of a container spec the check reads (Cloud Run `envs`, Kubernetes `env`). */
interface Container {
  args?: string[];
  envs?: { name: string }[];
  env?: { name: string }[];
}

/** The runner command line and env names of each job-like resource. */
function invocations(stack: string, resources: RecordedResource[]): JobInvocation[] {
  const out: JobInvocation[] = [];
  for (const r of resources) {
    if (r.type === 'gcp:cloudrunv2/job:Job') {
      const c = (r.inputs as unknown as { template: { template: { containers: Container[] } } }).template.template.containers[0]!;
      out.push({ stack, resource: r.name, args: c.args ?? [], env: (c.envs ?? []).map((e: { name: string }) => e.name) });
    } else if (r.type === 'aws:ecs/taskDefinition:TaskDefinition') {
      const c = JSON.parse(String(r.inputs.containerDefinitions))[0];
      const entry: string[] = c.entryPoint ?? [];
      assert.ok(entry.some((a) => a.endsWith('runner/cli.js')), `${r.name}: entryPoint ${JSON.stringify(entry)} does not run the runner CLI`);
      const names = [...(c.environment ?? []), ...(c.secrets ?? [])].map((e: { name: string }) => e.name);
      out.push({ stack, resource: r.name, args: c.command ?? [], env: names });
    } else if (r.type === 'kubernetes:batch/v1:CronJob') {
      const c = (r.inputs as unknown as { spec: { jobTemplate: { spec: { template: { spec: { containers: Container[] } } } } } }).spec
        .jobTemplate.spec.template.spec.containers[0]!;
      out.push({ stack, resource: r.name, args: c.args ?? [], env: (c.env ?? []).map((e: { name: string }) => e.name) });
    }
  }
  return out;
}

function quietContext(): RunContext {
  const sink = { write: () => true };
  return { env: {}, stdout: sink, stderr: sink, logger: silentLogger(), now: () => new Date(), signal: new AbortController().signal };
}

/** Parses `args` with the real program, actions replaced by a recorder; returns the command path reached. */
async function parseWithRealCli(args: string[]): Promise<Command> {
  const program = buildProgram(quietContext(), () => undefined);
  let reached: Command | undefined;
  const stub = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      sub.exitOverride();
      sub.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
      if (sub.commands.length) stub(sub);
      else sub.action(() => void (reached = sub));
    }
  };
  stub(program);
  program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  await program.parseAsync(args, { from: 'user' });
  assert.ok(reached, `no command ran for ${JSON.stringify(args)}`);
  return reached;
}

/** Variables a command reads: its options' variables, the ones implied by its options, and the global ones. */
function envReadBy(cmd: Command): Set<string> {
  const names = new Set<string>(GLOBAL_ENV);
  for (const o of cmd.options) {
    if (o.envVar) names.add(o.envVar);
    if (o.long === '--identity-file') names.add(ENV.ageIdentity);
    if (o.long === '--encrypt-to') names.add(ENV.ageRecipients);
  }
  return names;
}

const results = new Map<string, JobInvocation[]>();

test('every example stack schedules at least one runner job', async () => {
  assert.ok(stacks.length >= 5, `expected the example stacks, found ${stacks.join(', ')}`);
  for (const stack of stacks) {
    const { resources } = await synthStack(stack);
    const jobs = invocations(stack, resources);
    results.set(stack, jobs);
    assert.ok(jobs.length > 0, `stack ${stack} defines no runner job`);
  }
});

test('every job runs a command line the real CLI parses, with only variables that command reads', async () => {
  assert.ok(results.size > 0, 'the synth test above did not run');
  let checked = 0;
  for (const jobs of results.values()) {
    for (const job of jobs) {
      let cmd: Command;
      try {
        cmd = await parseWithRealCli(job.args);
      } catch (e) {
        const why = e instanceof CommanderError ? e.message : String(e);
        assert.fail(`${job.stack}/${job.resource}: the CLI refuses ${JSON.stringify(job.args)}: ${why}`);
      }
      const readable = envReadBy(cmd);
      const unread = job.env.filter((n) => !readable.has(n));
      assert.deepEqual(unread, [], `${job.stack}/${job.resource} sets ${unread.join(', ')}, which "${job.args.slice(0, 2).join(' ')}" never reads`);
      checked++;
    }
  }
  assert.ok(checked >= 10, `only ${checked} jobs checked`);
});

test('the check can fail: a misspelt variable or flag is caught', async () => {
  const cmd = await parseWithRealCli(['drill', '--backup', 'latest']);
  assert.ok(!envReadBy(cmd).has('LIFEBOAT_SCRATCH_URI'));
  assert.ok(envReadBy(cmd).has(ENV.scratchUrl));
  await assert.rejects(parseWithRealCli(['drill', '--rpo-target', '1h']), CommanderError);
  const redis = await parseWithRealCli(['redis', 'backup']);
  assert.ok(envReadBy(redis).has(ENV.redisUrl));
});
