/**
 * The deploying guides and the disaster runbook (docs/), checked against the code as it is: every command in
 * their shell blocks that names a stack, a stack output, a job, a secret, a bucket, a runner command or flag, a
 * config key or a workflow input must name one that exists (from the offline synth of the example stacks, the
 * CLI's own command tree, Pulumi.yaml and the workflow files). Placeholders written `<like-this>` are skipped.
 * README's examples of `npm run lifeboat -- <command>` are checked against the CLI too.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Command } from 'commander';
import { REPO_ROOT } from './dockerfile-model';
import { synthStack, type SynthResult } from '../../infra/synth/synth';
import { buildProgram } from '../../runner/cli/main';
import { silentLogger } from '../../runner/log';

/** The documents whose commands a person runs to deploy and to recover. */
const RUNBOOKS = ['docs/deploying.md', 'docs/gcp.md', 'docs/aws.md', 'docs/kubernetes.md', 'docs/disaster-recovery.md'];

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), 'utf8');

/** Shell commands of the ```sh blocks: continuation lines joined, comments dropped, one entry per command line. */
function commands(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const joined = m[1]!.replace(/\\\n\s*/g, ' ');
    for (const line of joined.split('\n')) {
      const cmd = line.replace(/\s+#.*$/, '').trim();
      if (cmd && !cmd.startsWith('#')) out.push(cmd);
    }
  }
  return out;
}

const COMMANDS = RUNBOOKS.flatMap((f) => commands(read(f)));
const README_COMMANDS = commands(read('README.md'));
const placeholder = (s: string) => /[<>]/.test(s);

const STACKS = readdirSync(REPO_ROOT)
  .map((f) => /^Pulumi\.([a-z0-9-]+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => s !== undefined);
const synths = new Map<string, SynthResult>();

before(async () => {
  // Only the stacks the runbooks operate on.
  const named = new Set<string>();
  for (const c of COMMANDS) for (const m of c.matchAll(/acme\/([a-z0-9-]+)/g)) named.add(m[1]!);
  for (const stack of named) if (STACKS.includes(stack)) synths.set(stack, await synthStack(stack));
});

const allSynths = () => [...synths.values()];
/** Every string anywhere in a value (outputs are nested records). */
function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v && typeof v === 'object') return Object.values(v).flatMap(strings);
  return [];
}

test('the runbooks have commands to check', () => {
  for (const f of RUNBOOKS) assert.ok(commands(read(f)).length >= 1, `${f} has no sh block with a command`);
  assert.ok(COMMANDS.length >= 25, `found ${COMMANDS.length}`);
  assert.ok(commands(read('docs/disaster-recovery.md')).length >= 10, 'the disaster runbook has its commands');
  assert.ok(synths.size >= 3, `stacks synthesized: ${[...synths.keys()].join(', ')}`);
});

test('every stack a command names has its stack file, and every `--stack` is org-qualified', () => {
  for (const c of COMMANDS.filter((x) => /^pulumi /.test(x))) {
    for (const m of c.matchAll(/(?:--stack|stack init) (\S+)/g)) {
      if (placeholder(m[1]!)) continue;
      assert.match(m[1]!, /^[\w-]+\/[\w-]+$/, `${c}: name the stack as <org>/<stack>`);
      const stack = m[1]!.split('/').pop()!;
      assert.ok(STACKS.includes(stack), `${c}: no Pulumi.${stack}.yaml`);
    }
  }
});

test('every `pulumi stack output <name>` is an output of that stack', () => {
  let checked = 0;
  for (const c of COMMANDS) {
    const m = /pulumi stack output (\S+) --stack \S*?([a-z0-9-]+)(\s|$)/.exec(c);
    if (!m || placeholder(c)) continue;
    const synth = synths.get(m[2]!);
    assert.ok(synth, `${c}: stack ${m[2]} was not synthesized`);
    assert.ok(m[1]! in synth.outputs, `${c}: stack ${m[2]} has no output ${m[1]} (it has ${Object.keys(synth.outputs).join(', ')})`);
    checked++;
  }
  assert.ok(checked >= 4, `checked ${checked}`);
});

test('every `pulumi config set` key is declared in Pulumi.yaml', () => {
  const project = parseYaml(readFileSync(path.join(REPO_ROOT, 'Pulumi.yaml'), 'utf8')) as { name: string; config: Record<string, unknown> };
  for (const c of COMMANDS) {
    const m = /pulumi config set (?:--stack \S+ )?(\S+)/.exec(c);
    if (!m) continue;
    const [ns, key] = m[1]!.split(':');
    assert.equal(ns, project.name, c);
    assert.ok(key! in project.config, `${c}: ${m[1]} is not declared in Pulumi.yaml`);
  }
});

test('every Cloud Run job a command runs is a job of an example stack, in that stack\'s region', () => {
  const jobs = new Map<string, string>(); // name -> region
  for (const s of allSynths()) {
    for (const r of s.resources.filter((x) => x.type === 'gcp:cloudrunv2/job:Job')) {
      jobs.set(String(r.inputs.name), String(r.inputs.location));
    }
  }
  let checked = 0;
  for (const c of COMMANDS) {
    const m = /gcloud run jobs execute (\S+)/.exec(c) ?? /cloud-run-job\.sh \S+ (\S+) (\S+)/.exec(c);
    if (!m) continue;
    const [job, region] = m[0].startsWith('gcloud') ? [m[1]!, /--region (\S+)/.exec(c)?.[1]] : [m[2]!, m[1]];
    if (placeholder(job)) continue;
    assert.ok(jobs.has(job), `${c}: no job ${job} in ${[...jobs.keys()].join(', ')}`);
    assert.equal(region, jobs.get(job), `${c}: ${job} runs in ${jobs.get(job)}`);
    checked++;
  }
  assert.ok(checked >= 4, `checked ${checked}`);
});

test('every secret a command reads or writes is one a stack creates or a stack file names', () => {
  const known = new Set<string>();
  for (const s of allSynths()) {
    for (const r of s.resources) {
      if (r.type === 'gcp:secretmanager/secret:Secret') known.add(String(r.inputs.secretId));
      if (r.type === 'aws:secretsmanager/secret:Secret') known.add(String(r.inputs.name));
    }
  }
  const stackFiles = STACKS.map((s) => readFileSync(path.join(REPO_ROOT, `Pulumi.${s}.yaml`), 'utf8')).join('\n');
  let checked = 0;
  for (const c of COMMANDS) {
    for (const m of c.matchAll(/(?:gcloud secrets versions (?:add|access latest --secret)|--secret-id) (\S+)|[A-Z_]+=([a-z0-9-]+-url)\b/g)) {
      const name = (m[1] ?? m[2])!;
      if (placeholder(name)) continue;
      const createdByStack = known.has(name);
      assert.ok(createdByStack || new RegExp(`:\\s*${name}\\s*$`, 'm').test(stackFiles), `${c}: secret ${name} is neither created by a stack nor named in a stack file`);
      checked++;
    }
  }
  assert.ok(checked >= 5, `checked ${checked}`);
});

test('every bucket a runner command reads is a bucket an example stack outputs', () => {
  const buckets = new Set(allSynths().flatMap((s) => strings(s.outputs)).filter((v) => /^[a-z0-9][a-z0-9._-]+$/.test(v)));
  let checked = 0;
  for (const c of COMMANDS) {
    for (const m of c.matchAll(/--storage gs:\/\/([^/\s]+)/g)) {
      assert.ok(buckets.has(m[1]!), `${c}: ${m[1]} is not a bucket output of ${[...synths.keys()].join(', ')}`);
      checked++;
    }
  }
  assert.ok(checked >= 3, `checked ${checked}`);
});

function lifeboatProgram(): Command {
  const ctx = {
    env: {}, stdout: { write: () => true }, stderr: { write: () => true }, logger: silentLogger(),
    now: () => new Date(), signal: new AbortController().signal,
  };
  return buildProgram(ctx, () => undefined);
}

/** Checks each `npm run lifeboat -- <command> [flags]` against the CLI; returns the commands' full names. */
function checkLifeboatCommands(lines: readonly string[]): string[] {
  const program = lifeboatProgram();
  const named: string[] = [];
  for (const c of lines) {
    const m = /npm run lifeboat -- (.*)$/.exec(c);
    if (!m) continue;
    const words = m[1]!.split(/\s+/);
    let cmd: Command = program;
    const names: string[] = [];
    while (words.length && !words[0]!.startsWith('-')) {
      const sub = cmd.commands.find((x) => x.name() === words[0]);
      if (!sub) break;
      cmd = sub;
      names.push(words.shift()!);
    }
    assert.notEqual(cmd, program, `${c}: no such lifeboat command`);
    const flags = new Set(cmd.options.flatMap((o) => [o.long, o.short]).filter(Boolean));
    for (const w of words.filter((x) => x.startsWith('-'))) assert.ok(flags.has(w.split('=')[0]!), `${c}: lifeboat ${names.join(' ')} has no ${w}`);
    named.push(names.join(' '));
  }
  return named;
}

test('every `npm run lifeboat -- <command>` of the runbooks and its flags exist in the CLI', () => {
  assert.ok(checkLifeboatCommands(COMMANDS).length >= 3);
});

test('README shows every lifeboat command once at least, with flags the CLI has', () => {
  const shown = new Set(checkLifeboatCommands(README_COMMANDS));
  const all = lifeboatProgram().commands.flatMap((c) => (c.commands.length ? c.commands.map((s) => `${c.name()} ${s.name()}`) : [c.name()]));
  assert.ok(all.length >= 11, `the CLI has ${all.join(', ')}`);
  for (const name of all) assert.ok(shown.has(name), `README has no example of lifeboat ${name}`);
});

test('`gh workflow run` names a workflow and only its inputs', () => {
  let checked = 0;
  for (const c of COMMANDS) {
    const m = /gh workflow run (\S+)/.exec(c);
    if (!m) continue;
    const file = path.join(REPO_ROOT, '.github', 'workflows', m[1]!);
    assert.ok(existsSync(file), `${c}: no ${m[1]}`);
    const wf = parseYaml(readFileSync(file, 'utf8')) as { on: { workflow_dispatch?: { inputs: Record<string, unknown> } } };
    const inputs = Object.keys(wf.on.workflow_dispatch?.inputs ?? {});
    for (const f of c.matchAll(/-f (\w+)=/g)) assert.ok(inputs.includes(f[1]!), `${c}: ${m[1]} has no input ${f[1]}`);
    checked++;
  }
  assert.ok(checked >= 1);
});

test('scripts and files the runbooks run exist', () => {
  for (const c of COMMANDS) {
    for (const m of c.matchAll(/(?:^|\s)(\.github\/[\w./-]+|runner\/[\w./-]+|policies)(?=\s|$)/g)) {
      assert.ok(existsSync(path.join(REPO_ROOT, m[1]!)), `${c}: ${m[1]} does not exist`);
    }
  }
});
