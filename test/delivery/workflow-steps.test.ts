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

interface Run { status: number | null; stdout: string; stderr: string; calls: string[][] }

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
      `  "stack output") jq -e --arg k "$3" '.[$k]' "${dir}/outputs.json" || { echo "no output $3" >&2; exit 1; };;`,
      `  "config get") jq -re --arg k "$3" '.[$k]' "${dir}/config.json" || { echo "no config $3" >&2; exit 1; };;`,
      `  *) echo "unexpected pulumi $*" >&2; exit 1;;`,
      `esac`,
    ].join('\n'));
    stub(path.join(bin, 'gcloud'), 'exit 0');
    stub(path.join(dir, '.github', 'scripts', 'cloud-run-job.sh'), 'exit 0');
    const r = spawnSync('/bin/bash', ['--noprofile', '--norc', '-e', '-o', 'pipefail', '-c', scripts.join('\n')], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: `${bin}:/usr/bin:/bin`, RUNNER_TEMP: dir, ...env },
    });
    let lines: string[] = [];
    try {
      lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    } catch {
      // no call at all
    }
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls: lines.map((l) => JSON.parse(l) as string[]) };
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
      executes.some((c) => JSON.stringify(c.slice(1)) === JSON.stringify(['run', 'jobs', 'execute', j.job, '--project', j.project, '--region', j.region, '--args=restore,20261121T020000Z-3f9a,--create,--no-owner,--no-privileges', '--wait'])),
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
