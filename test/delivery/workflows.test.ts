/**
 * The GitHub Actions pipelines, checked offline: valid YAML; every npm script, stack file, path and runner
 * subcommand they use exists; actions pinned to exact releases; secrets only by name; no plaintext credentials;
 * no workflow input spliced into a shell script; and the order of the steps that matter (backup before prod,
 * approval gate, DR up → restore → drill).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { Command } from 'commander';
import { REPO_ROOT } from './dockerfile-model';
import { buildProgram } from '../../runner/cli/main';
import { silentLogger } from '../../runner/log';

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
}
interface Job {
  name?: string;
  'runs-on': string;
  needs?: string | string[];
  environment?: string | { name: string };
  permissions?: Record<string, string>;
  strategy?: { matrix?: { include?: Array<Record<string, string>> } & Record<string, unknown> };
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const WORKFLOW_DIR = path.join(REPO_ROOT, '.github', 'workflows');
const WORKFLOWS = ['preview.yml', 'deploy.yml', 'dr.yml'];

function load(file: string): { text: string; wf: Workflow } {
  const text = readFileSync(path.join(WORKFLOW_DIR, file), 'utf8');
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  assert.deepEqual(doc.errors.map((e) => e.message), [], `${file} is valid YAML`);
  assert.deepEqual(doc.warnings.map((e) => e.message), [], `${file} has no YAML warnings`);
  return { text, wf: doc.toJS() as Workflow };
}

const all = Object.fromEntries(WORKFLOWS.map((f) => [f, load(f)]));
const steps = (wf: Workflow): Step[] => Object.values(wf.jobs).flatMap((j) => j.steps);
const packageJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

/** Stack names a job operates on: `stack-name` inputs and STACK env values, with matrix values expanded. */
function stacksOf(job: Job, wf: Workflow): string[] {
  const raw: string[] = [];
  for (const s of job.steps) {
    const name = s.with?.['stack-name'];
    if (typeof name === 'string') raw.push(name);
  }
  for (const env of [wf.env, job.env, ...job.steps.map((s) => s.env)]) if (env?.STACK) raw.push(env.STACK);
  const matrixStacks = job.strategy?.matrix?.include?.map((m) => m.stack!).filter(Boolean) ?? [];
  return raw.flatMap((r) => {
    const short = r.split('/').pop()!;
    return short === '${{ matrix.stack }}' ? matrixStacks : [short];
  });
}

test('the three workflows exist and are the only ones', () => {
  assert.deepEqual(readdirSync(WORKFLOW_DIR).sort(), [...WORKFLOWS].sort());
  for (const [file, { wf }] of Object.entries(all)) {
    assert.ok(wf.name && wf.on && wf.jobs, `${file}: name, on, jobs`);
    for (const [id, job] of Object.entries(wf.jobs)) {
      assert.ok(job['runs-on'], `${file} ${id}: runs-on`);
      assert.ok(Array.isArray(job.steps) && job.steps.length > 0, `${file} ${id}: steps`);
      for (const s of job.steps) assert.ok(Boolean(s.uses) !== Boolean(s.run), `${file} ${id}: a step has uses or run`);
    }
  }
});

test('every action is pinned to an exact release (or a commit)', () => {
  for (const [file, { wf }] of Object.entries(all)) {
    for (const s of steps(wf).filter((x) => x.uses)) {
      assert.match(s.uses!, /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@(v\d+\.\d+\.\d+|[0-9a-f]{40})$/, `${file}: ${s.uses}`);
    }
  }
});

/**
 * Inputs each action declares in its action.yml at the major release pinned here (pulumi/actions and
 * pulumi/auth-actions read from their action.yml and README; the others from their documented inputs). GitHub only
 * warns about an undeclared input and runs the step without it: a misspelt `policyPacks` would preview with no
 * policy pack at all, and still pass.
 */
const ACTION_INPUTS: Record<string, { major: number; inputs: string[]; required?: string[] }> = {
  'actions/checkout': { major: 4, inputs: ['repository', 'ref', 'token', 'ssh-key', 'persist-credentials', 'path', 'clean', 'filter', 'sparse-checkout', 'fetch-depth', 'fetch-tags', 'lfs', 'submodules', 'set-safe-directory'] },
  'actions/setup-node': { major: 4, inputs: ['always-auth', 'node-version', 'node-version-file', 'architecture', 'check-latest', 'registry-url', 'scope', 'token', 'cache', 'cache-dependency-path'] },
  'google-github-actions/auth': {
    major: 2,
    inputs: ['project_id', 'workload_identity_provider', 'service_account', 'audience', 'credentials_json', 'create_credentials_file', 'export_environment_variables', 'token_format', 'delegates', 'universe', 'request_reason', 'cleanup_credentials', 'access_token_lifetime', 'access_token_scopes', 'access_token_subject', 'retries', 'backoff', 'backoff_limit', 'id_token_audience', 'id_token_include_email'],
  },
  'google-github-actions/setup-gcloud': { major: 2, inputs: ['version', 'project_id', 'install_components', 'skip_install'] },
  'aws-actions/configure-aws-credentials': {
    major: 4,
    inputs: ['aws-region', 'role-to-assume', 'aws-access-key-id', 'aws-secret-access-key', 'aws-session-token', 'web-identity-token-file', 'role-chaining', 'audience', 'http-proxy', 'mask-aws-account-id', 'role-duration-seconds', 'role-external-id', 'role-session-name', 'role-skip-session-tagging', 'inline-session-policy', 'managed-session-policies', 'output-credentials', 'unset-current-credentials', 'disable-retry', 'retry-max-attempts', 'special-characters-workaround'],
    required: ['aws-region'],
  },
  'pulumi/auth-actions': { major: 1, inputs: ['organization', 'requested-token-type', 'scope', 'token-expiration', 'export-environment-variables', 'cloud-url'], required: ['organization'] },
  'pulumi/actions': {
    major: 6,
    inputs: [
      'command', 'stack-name', 'work-dir', 'cloud-url', 'comment-on-pr', 'comment-on-summary', 'github-token', 'refresh', 'secrets-provider', 'color',
      'config-map', 'diff', 'comment-on-pr-number', 'edit-pr-comment', 'expect-no-changes', 'message', 'parallel', 'policyPacks', 'policyPackConfigs',
      'pulumi-version', 'pulumi-version-file', 'remove', 'replace', 'target', 'target-dependents', 'upsert', 'exclude-protected', 'suppress-outputs',
      'suppress-progress', 'plan', 'always-include-summary', 'continue-on-error',
    ],
  },
  'docker/login-action': { major: 3, inputs: ['registry', 'username', 'password', 'ecr', 'logout'] },
  'docker/setup-buildx-action': { major: 3, inputs: ['version', 'driver', 'driver-opts', 'buildkitd-flags', 'buildkitd-config', 'buildkitd-config-inline', 'install', 'use', 'endpoint', 'platforms', 'append', 'keep-state', 'cache-binary', 'cleanup', 'name'] },
  'docker/build-push-action': {
    major: 6,
    inputs: [
      'add-hosts', 'allow', 'annotations', 'attests', 'build-args', 'build-contexts', 'builder', 'cache-from', 'cache-to', 'call', 'cgroup-parent',
      'context', 'file', 'labels', 'load', 'network', 'no-cache', 'no-cache-filters', 'outputs', 'platforms', 'provenance', 'pull', 'push', 'sbom',
      'secrets', 'secret-envs', 'secret-files', 'shm-size', 'ssh', 'tags', 'target', 'ulimit', 'github-token',
    ],
  },
};

test('every input a step passes is one its action declares at the pinned release; required ones are given', () => {
  let checked = 0;
  for (const [file, { wf }] of Object.entries(all)) {
    for (const s of steps(wf).filter((x) => x.uses)) {
      const [action, ref] = s.uses!.split('@') as [string, string];
      const known = ACTION_INPUTS[action];
      assert.ok(known, `${file}: ${action} is not in ACTION_INPUTS; add its inputs from its action.yml at ${ref}`);
      assert.equal(Number(/^v(\d+)\./.exec(ref)?.[1]), known.major, `${file}: ${s.uses} is not the major release whose inputs are listed here`);
      for (const key of Object.keys(s.with ?? {})) {
        assert.ok(known.inputs.includes(key), `${file}: ${action} has no input '${key}' (GitHub would ignore it with a warning)`);
        checked++;
      }
      for (const key of known.required ?? []) assert.ok(key in (s.with ?? {}), `${file}: ${action} needs '${key}'`);
    }
  }
  assert.ok(checked >= 30, `inputs checked: ${checked}`);
});

test('the pulumi/actions steps that run a command name a stack and the policy pack; a bare step only installs the CLI', () => {
  for (const [file, { wf }] of Object.entries(all)) {
    for (const s of steps(wf).filter((x) => x.uses?.startsWith('pulumi/actions@'))) {
      if (!s.with?.command) {
        assert.equal(s.with, undefined, `${file}: a pulumi/actions step without a command takes no inputs`);
        continue;
      }
      assert.ok(s.with['stack-name'], `${file}: pulumi ${String(s.with.command)} without stack-name`);
      if (['up', 'preview'].includes(String(s.with.command))) assert.equal(s.with.policyPacks, 'policies', `${file}: pulumi ${String(s.with.command)} without the policy pack`);
    }
  }
});

test('secrets only by name, no plaintext credentials, least-privilege token', () => {
  const credentialPatterns: Array<[string, RegExp]> = [
    ['AWS access key id', /AKIA[0-9A-Z]{16}/],
    ['private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
    ['GitHub token', /gh[pousr]_[A-Za-z0-9]{20,}/],
    ['Pulumi access token', /pul-[0-9a-f]{20,}/],
    ['URL with a password', /\w+:\/\/[^/\s:@]+:[^/\s@]+@/],
    ['Google API key', /AIza[0-9A-Za-z_-]{30,}/],
  ];
  for (const [file, { text, wf }] of Object.entries(all)) {
    for (const [what, re] of credentialPatterns) assert.doesNotMatch(text, re, `${file}: ${what}`);
    for (const m of text.matchAll(/secrets\.[^\s}]*/g)) {
      assert.match(m[0], /^secrets\.[A-Z][A-Z0-9_]*$/, `${file}: ${m[0]}`);
    }
    assert.doesNotMatch(text, /\$\{\{\s*secrets\s*\[/, `${file}: no computed secret names`);
    assert.doesNotMatch(text, /toJSON\(\s*secrets\s*\)/, `${file}: never all secrets at once`);
    // Inputs that look like credentials are expressions (a secret, a variable or a step output), never literals.
    for (const s of steps(wf)) {
      for (const [k, v] of Object.entries(s.with ?? {})) {
        const notCredentials = ['token_format', 'requested-token-type', 'github-token'];
        if (/(^|[-_])(password|token|secret|key)([-_]|$)/i.test(k) && !notCredentials.includes(k)) {
          assert.match(String(v), /^\$\{\{ [^}]+ \}\}$/, `${file}: ${s.uses} ${k} is a literal`);
        }
      }
    }
    assert.deepEqual(wf.permissions, { contents: 'read' }, `${file}: read-only by default`);
    for (const [id, job] of Object.entries(wf.jobs)) {
      const usesOidc = job.steps.some((s) => /google-github-actions\/auth|configure-aws-credentials|pulumi\/auth-actions/.test(s.uses ?? ''));
      if (usesOidc) assert.equal(job.permissions?.['id-token'], 'write', `${file} ${id}: OIDC needs id-token: write`);
      else assert.equal(job.permissions, undefined, `${file} ${id}: no extra permissions without a need`);
    }
  }
});

test('cloud credentials come from OIDC: workload identity provider, role to assume, Pulumi token exchange', () => {
  for (const [file, { wf }] of Object.entries(all)) {
    for (const s of steps(wf)) {
      if (s.uses?.startsWith('google-github-actions/auth@')) {
        assert.ok(s.with?.workload_identity_provider, `${file}: workload_identity_provider`);
        assert.ok(!('credentials_json' in (s.with ?? {})), `${file}: no service account key`);
      }
      if (s.uses?.startsWith('aws-actions/configure-aws-credentials@')) {
        assert.ok(s.with?.['role-to-assume'], `${file}: role-to-assume`);
        assert.ok(!('aws-secret-access-key' in (s.with ?? {})), `${file}: no static AWS keys`);
      }
      if (s.uses?.startsWith('pulumi/auth-actions@')) assert.ok(s.with?.organization, `${file}: Pulumi organization`);
    }
  }
});

test('no workflow input or event field is spliced into a shell script', () => {
  for (const [file, { wf }] of Object.entries(all)) {
    for (const s of steps(wf).filter((x) => x.run)) {
      assert.doesNotMatch(s.run!, /\$\{\{\s*(inputs|github\.event|github\.head_ref)/, `${file}: ${s.name ?? s.run!.slice(0, 40)}`);
    }
  }
});

test('every npm script, path and executable the workflows use exists', () => {
  for (const [file, { wf }] of Object.entries(all)) {
    for (const s of steps(wf)) {
      for (const m of (s.run ?? '').matchAll(/npm run (?:--silent )?([\w:-]+)/g)) {
        assert.ok(m[1]! in packageJson.scripts, `${file}: npm run ${m[1]} is not a script in package.json`);
      }
      for (const m of (s.run ?? '').matchAll(/(?:^|\s)(\.?(?:\.ci|\.github|scripts|runner)\/[\w./-]+)/g)) {
        const p = path.join(REPO_ROOT, m[1]!);
        assert.ok(existsSync(p), `${file}: ${m[1]} does not exist`);
        if (/\.sh$|\.ci\/run$/.test(m[1]!)) accessSync(p, constants.X_OK);
      }
      for (const m of (s.run ?? '').matchAll(/--prefix (\S+)/g)) {
        assert.ok(existsSync(path.join(REPO_ROOT, m[1]!, 'package.json')), `${file}: ${m[1]}/package.json`);
      }
      for (const key of ['file', 'context', 'work-dir', 'policyPacks']) {
        const v = s.with?.[key];
        if (typeof v === 'string') assert.ok(existsSync(path.join(REPO_ROOT, v)), `${file}: ${key} ${v} does not exist`);
      }
      if (s.with?.policyPacks) assert.ok(existsSync(path.join(REPO_ROOT, String(s.with.policyPacks), 'PulumiPolicy.yaml')));
    }
  }
  const helper = spawnSync('bash', ['-n', path.join(REPO_ROOT, '.github', 'scripts', 'cloud-run-job.sh')], { encoding: 'utf8' });
  assert.equal(helper.status, 0, helper.stderr);
});

test('every stack a workflow operates on has its stack file', () => {
  let count = 0;
  for (const [file, { wf }] of Object.entries(all)) {
    for (const job of Object.values(wf.jobs)) {
      for (const stack of stacksOf(job, wf)) {
        count++;
        assert.ok(existsSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`)), `${file}: Pulumi.${stack}.yaml is missing`);
      }
    }
  }
  assert.ok(count >= 8, `stacks found: ${count}`);
});

test('the runner subcommands and flags the workflows run exist in the CLI', () => {
  const ctx = {
    env: {}, stdout: { write: () => true }, stderr: { write: () => true }, logger: silentLogger(),
    now: () => new Date(), signal: new AbortController().signal,
  };
  const program = buildProgram(ctx, () => undefined);
  const command = (name: string): Command => {
    const c = program.commands.find((x) => x.name() === name);
    assert.ok(c, `lifeboat ${name} exists (the workflows run it)`);
    return c;
  };
  const flags = (c: Command): string[] => c.options.map((o) => o.long ?? '');
  const texts = Object.values(all).map((x) => x.text).join('\n');
  assert.match(texts, /--args=backup,--class,manual/);
  assert.ok(flags(command('backup')).includes('--class'));
  assert.match(texts, /--args="restore,\$BACKUP,--create,--roles"/);
  assert.ok(flags(command('restore')).includes('--create'));
  assert.ok(flags(command('restore')).includes('--roles'));
  assert.match(texts, /\["drill", "--backup", \$b\]/);
  assert.ok(flags(command('drill')).includes('--backup'));
  assert.ok(flags(command('drill')).includes('--scratch-url'), 'drill reads LIFEBOAT_SCRATCH_URL through --scratch-url');
});

test('preview: tests and an offline synth, then a policy-checked preview of each stack commented on the PR', () => {
  const { wf } = all['preview.yml']!;
  assert.ok('pull_request' in wf.on);
  assert.match(wf.jobs.test!.steps.map((s) => s.run ?? '').join('\n'), /\.ci\/run/);
  assert.match(wf.jobs.synth!.steps.map((s) => s.run ?? '').join('\n'), /npm run --silent synth -- "\$stack"/);
  const preview = wf.jobs.preview!;
  assert.deepEqual(preview.needs, ['test', 'synth']);
  assert.equal(preview.permissions?.['pull-requests'], 'write');
  const run = preview.steps.find((s) => s.uses?.startsWith('pulumi/actions@'));
  assert.equal(run?.with?.command, 'preview');
  assert.equal(run?.with?.['comment-on-pr'], true);
  assert.equal(run?.with?.policyPacks, 'policies');
  const stacks = stacksOf(preview, wf).sort();
  for (const s of ['dr', 'prod', 'staging']) assert.ok(stacks.includes(s), `preview covers ${s}`);
});

test('deploy: image by digest, staging first, then an approved production job that backs up before pulumi up', () => {
  const { wf } = all['deploy.yml']!;
  assert.deepEqual((wf.on.push as { branches: string[] }).branches, ['main']);
  const build = wf.jobs.image!.steps.find((s) => s.uses?.startsWith('docker/build-push-action@'));
  assert.equal(build?.with?.file, 'runner/Dockerfile');
  assert.equal(build?.with?.push, true);
  assert.deepEqual(wf.jobs.image!.needs, 'test');
  assert.equal(wf.jobs.staging!.needs, 'image');
  assert.equal(wf.jobs.staging!.environment, 'staging');
  const prod = wf.jobs.production!;
  assert.deepEqual(prod.needs, ['image', 'staging']);
  assert.equal(prod.environment, 'production');
  const backupAt = prod.steps.findIndex((s) => /--args=backup,--class,manual/.test(s.run ?? ''));
  const upAt = prod.steps.findIndex((s) => s.with?.command === 'up');
  assert.ok(backupAt >= 0 && upAt > backupAt, 'the pre-deploy backup runs before pulumi up prod');
  assert.deepEqual(stacksOf(prod, wf).sort(), ['prod', 'prod']);
  for (const job of [wf.jobs.staging!, prod]) {
    const up = job.steps.find((s) => s.with?.command === 'up')!;
    assert.equal(up.with?.policyPacks, 'policies');
    assert.match(String(up.with?.['config-map']), /lifeboat:runnerImage: \{value: '\$\{\{ needs\.image\.outputs\.ref \}\}'/);
  }
});

test('dr: manual, with DR region and backup inputs; pulumi up --stack dr, then restore, then a drill', () => {
  const { wf } = all['dr.yml']!;
  const inputs = (wf.on.workflow_dispatch as { inputs: Record<string, { required: boolean }> }).inputs;
  assert.deepEqual(Object.keys(inputs).sort(), ['backup', 'dr_region', 'runner_image']);
  assert.equal(inputs.runner_image!.required, false, 'default: the image prod runs');
  assert.ok(Object.keys(wf.on).length === 1, 'manual only');
  const job = wf.jobs.recover!;
  assert.equal(job.environment, 'disaster-recovery');
  const at = (re: RegExp): number => job.steps.findIndex((s) => re.test(s.run ?? '') || re.test(JSON.stringify(s.with ?? {})));
  const check = at(/DR_REGION =~/);
  const up = job.steps.findIndex((s) => s.with?.command === 'up' && String(s.with?.['stack-name']).endsWith('/dr'));
  const restore = at(/--args="restore,/);
  const drill = at(/"drill"/);
  assert.ok(check === 0 && up > check && restore > up && drill > restore, `order: ${[check, up, restore, drill].join(' ')}`);
  assert.match(String(job.steps[up]!.with?.['config-map']), /gcp:region/);
  // The runner the backups were written with (prod's runnerImage output), not the digest committed in Pulumi.dr.yaml.
  const image = job.steps.findIndex((s) => s.id === 'image');
  assert.ok(image >= 0 && image < up, 'the image is chosen before pulumi up');
  assert.match(job.steps[image]!.run ?? '', /pulumi stack output runnerImage --stack "\$PROD_STACK"/);
  assert.match(String(job.steps[up]!.with?.['config-map']), /lifeboat:runnerImage: \{value: '\$\{\{ steps\.image\.outputs\.ref \}\}'/);
  // A new organization has no dr stack until the day it is needed.
  assert.equal(job.steps[up]!.with?.upsert, true);
  // The application's role gets its new password after the restores and before the drills.
  const password = at(/sql-role-password\.sh/);
  assert.ok(password > restore && password < drill, `order: restore ${restore}, password ${password}, drill ${drill}`);
});

test('preview: every stack previews in a new organization (the stack is created empty when missing)', () => {
  const { wf } = all['preview.yml']!;
  const run = wf.jobs.preview!.steps.find((s) => s.uses?.startsWith('pulumi/actions@') && s.with?.command === 'preview');
  assert.equal(run?.with?.upsert, true);
});
