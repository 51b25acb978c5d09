/**
 * The shell steps of the pipelines that act on production, run for real with bash as GitHub runs them
 * (`bash -e -o pipefail`), against the stack outputs the offline synth produces for the example stacks. `pulumi`,
 * `gcloud` and the Cloud Run helper are stubs that log their arguments (and, like a careless tool, read their
 * stdin), so what is asserted is the commands the steps would run: which jobs, in which project and region, with
 * which arguments and secrets.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from './dockerfile-model';
import { requireOnPath } from '../harness/binaries';
import { synthStack, type SynthResult } from '../../infra/synth/synth';

interface Step { name?: string; run?: string }
interface Workflow { jobs: Record<string, { env?: Record<string, string>; steps: Step[] }> }

const workflow = (file: string) => parseYaml(readFileSync(path.join(REPO_ROOT, '.github', 'workflows', file), 'utf8')) as Workflow;
function stepRun(file: string, job: string, name: RegExp): string {
  const step = workflow(file).jobs[job]!.steps.find((s) => s.name && name.test(s.name));
  assert.ok(step?.run, `${file} ${job}: a step named ${name}`);
  return step.run;
}

let prod: SynthResult;
let dr: SynthResult;
before(async () => {
  requireOnPath('jq', 'jq');
  prod = await synthStack('prod');
  dr = await synthStack('dr');
});

interface Run { status: number | null; stdout: string; stderr: string; calls: string[][]; githubOutput: string }

/** Runs step scripts in order in a scratch checkout whose tools are stubs; returns every stub call. */
function runSteps(scripts: string[], outputs: Record<string, unknown>, config: Record<string, string>, env: Record<string, string>): Run {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-steps-'));
  try {
    const bin = path.join(dir, 'bin');
    const log = path.join(dir, 'calls.jsonl');
    mkdirSync(bin);
    mkdirSync(path.join(dir, '.github', 'scripts'), { recursive: true });
    writeFileSync(path.join(dir, 'outputs.json'), JSON.stringify(outputs));
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    // Logs argv as one JSON array per line, then swallows stdin as a careless tool would.
    const logArgs = `jq -cn --arg tool "$(basename "$0")" '$ARGS.positional | [$tool] + .' --args -- "$@" >> "${log}"; cat > /dev/null`;
    const stub = (file: string, body: string) => {
      writeFileSync(file, `#!/bin/bash\n${logArgs}\n${body}\n`);
      chmodSync(file, 0o755);
    };
    stub(path.join(bin, 'pulumi'), [
      `case "$1 $2" in`,
      // Like pulumi: JSON with --json, the bare value of a string output without it.
      `  "stack output") if [[ " $* " == *" --json "* ]]; then flags=-e; else flags=-re; fi; jq $flags --arg k "$3" '.[$k]' "${dir}/outputs.json" || { echo "no output $3" >&2; exit 1; };;`,
      `  "config get") jq -re --arg k "$3" '.[$k]' "${dir}/config.json" || { echo "no config $3" >&2; exit 1; };;`,
      `  *) echo "unexpected pulumi $*" >&2; exit 1;;`,
      `esac`,
    ].join('\n'));
    stub(path.join(bin, 'gcloud'), 'exit 0');
    stub(path.join(dir, '.github', 'scripts', 'cloud-run-job.sh'), 'exit 0');
    stub(path.join(dir, '.github', 'scripts', 'sql-role-password.sh'), 'exit 0');
    const r = spawnSync('/bin/bash', ['--noprofile', '--norc', '-e', '-o', 'pipefail', '-c', scripts.join('\n')], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: `${bin}:/usr/bin:/bin`, RUNNER_TEMP: dir, GITHUB_OUTPUT: path.join(dir, 'github-output'), ...env },
    });
    let lines: string[] = [];
    try {
      lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    } catch {
      // no call at all
    }
    let githubOutput = '';
    try {
      githubOutput = readFileSync(path.join(dir, 'github-output'), 'utf8');
    } catch {
      // the steps wrote no output
    }
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls: lines.map((l) => JSON.parse(l) as string[]), githubOutput };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const drSteps = () => [stepRun('dr.yml', 'recover', /^restore every database/), stepRun('dr.yml', 'recover', /^drill against/)];

test('dr: every database of the dr stack is restored with the chosen backup, then drilled against its recovery URL secret', () => {
  const jobs = dr.outputs.restoreJobs as Record<string, { job: string; project: string; region: string; recoveryUrlSecret: string }>;
  assert.ok(Object.keys(jobs).length >= 2, 'the example dr stack recovers several databases');
  const region = Object.values(jobs)[0]!.region;
  const r = runSteps(drSteps(), dr.outputs, {}, { STACK: 'acme/dr', DR_REGION: region, BACKUP: '20261121T020000Z-3f9a' });
  assert.equal(r.status, 0, r.stderr);
  const executes = r.calls.filter((c) => c[0] === 'gcloud');
  const drills = r.calls.filter((c) => c[0] === 'cloud-run-job.sh');
  assert.equal(executes.length, Object.keys(jobs).length, 'one restore per database (none skipped)');
  assert.equal(drills.length, Object.keys(jobs).length, 'one drill per database (none skipped)');
  for (const j of Object.values(jobs)) {
    assert.ok(
      executes.some((c) => JSON.stringify(c.slice(1)) === JSON.stringify(['run', 'jobs', 'execute', j.job, '--project', j.project, '--region', j.region, '--args=restore,20261121T020000Z-3f9a,--create,--roles', '--wait'])),
      `restore of ${j.job}: ${JSON.stringify(executes)}`,
    );
    assert.ok(
      drills.some((c) => JSON.stringify(c.slice(1)) === JSON.stringify([j.project, j.region, j.job, '["drill","--backup","20261121T020000Z-3f9a"]', `LIFEBOAT_SCRATCH_URL=${j.recoveryUrlSecret}`])),
      `drill of ${j.job}: ${JSON.stringify(drills)}`,
    );
  }
  const lastRestore = r.calls.map((c) => c[0]).lastIndexOf('gcloud');
  const firstDrill = r.calls.map((c) => c[0]).indexOf('cloud-run-job.sh');
  assert.ok(lastRestore < firstDrill, 'every restore before any drill');
});

test('dr: every Redis source of the dr stack is restored through its job', () => {
  const jobs = dr.outputs.redisRestoreJobs as Record<string, { job: string; project: string; region: string }>;
  assert.ok(Object.keys(jobs).length >= 1);
  const r = runSteps([stepRun('dr.yml', 'recover', /^restore every Redis source/)], dr.outputs, {}, { STACK: 'acme/dr' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    r.calls.filter((c) => c[0] === 'gcloud').map((c) => c.slice(1)),
    Object.values(jobs).map((j) => ['run', 'jobs', 'execute', j.job, '--project', j.project, '--region', j.region, '--wait']),
  );
});

test('dr: each application role gets the password of its new URL, from the secret the dr stack made', () => {
  const r = runSteps([stepRun('dr.yml', 'recover', /^give each application role/)], dr.outputs, {}, { STACK: 'acme/dr' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.calls.filter((c) => c[0] === 'sql-role-password.sh'), [['sql-role-password.sh', 'acme-prod', 'orders-pg-dr', 'orders_app', 'lifeboat-prod-dr-orders-application-url']]);
});

test('dr: the runner image is the one prod runs unless one is given, and only ever by digest', () => {
  const script = stepRun('dr.yml', 'recover', /^runner image/);
  const fromProd = runSteps([script], prod.outputs, {}, { PROD_STACK: 'acme/prod', RUNNER_IMAGE_INPUT: '' });
  assert.equal(fromProd.status, 0, fromProd.stderr);
  assert.equal(fromProd.githubOutput.trim(), `ref=${String(prod.outputs.runnerImage)}`);
  const given = `europe-docker.pkg.dev/acme-prod/lifeboat/runner@sha256:${'b'.repeat(64)}`;
  const r = runSteps([script], prod.outputs, {}, { PROD_STACK: 'acme/prod', RUNNER_IMAGE_INPUT: given });
  assert.equal(r.githubOutput.trim(), `ref=${given}`);
  const tagged = runSteps([script], { runnerImage: 'europe-docker.pkg.dev/acme-prod/lifeboat/runner:latest' }, {}, { PROD_STACK: 'acme/prod', RUNNER_IMAGE_INPUT: '' });
  assert.notEqual(tagged.status, 0);
  assert.match(tagged.stdout, /::error::runner image .* is not pinned by digest/);
  const none = runSteps([script], {}, {}, { PROD_STACK: 'acme/prod', RUNNER_IMAGE_INPUT: '' });
  assert.notEqual(none.status, 0);
  assert.match(none.stdout, /::error::the prod stack acme\/prod has no runnerImage output/);
});

test('dr: restore jobs outside the requested DR region stop the run before anything is executed', () => {
  const r = runSteps(drSteps(), dr.outputs, {}, { STACK: 'acme/dr', DR_REGION: 'us-east1', BACKUP: 'latest' });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /::error::restore job \S+ is in \S+, not in the requested DR region us-east1/);
  assert.deepEqual(r.calls.filter((c) => c[0] !== 'pulumi'), []);
});

test('deploy: the pre-deploy backup runs `backup --class manual` through every database backup job of prod, and nothing else', () => {
  const script = stepRun('deploy.yml', 'production', /^pre-deploy backup/);
  const config = { 'gcp:project': 'acme-prod', 'gcp:region': 'europe-west1' };
  const r = runSteps([script], prod.outputs, config, { STACK: 'acme/prod' });
  assert.equal(r.status, 0, r.stderr);
  const jobs = prod.outputs.jobs as Record<string, string>;
  const databases = Object.entries(jobs).filter(([k]) => k.endsWith('-backup') && !k.endsWith('-redis-backup')).map(([, v]) => v);
  assert.ok(databases.length >= 2);
  const executes = r.calls.filter((c) => c[0] === 'gcloud');
  assert.deepEqual(
    executes.map((c) => c.slice(1)).sort(),
    databases.map((job) => ['run', 'jobs', 'execute', job, '--project', 'acme-prod', '--region', 'europe-west1', '--args=backup,--class,manual', '--wait']).sort(),
  );
});

test('deploy: a prod stack without database backup jobs refuses to deploy', () => {
  const script = stepRun('deploy.yml', 'production', /^pre-deploy backup/);
  const r = runSteps([script], { jobs: {} }, { 'gcp:project': 'acme-prod', 'gcp:region': 'europe-west1' }, { STACK: 'acme/prod' });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /::error::the prod stack exports no database backup jobs/);
  assert.deepEqual(r.calls.filter((c) => c[0] === 'gcloud'), []);
});
