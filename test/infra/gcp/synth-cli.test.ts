/**
 * `npm run synth -- <stack> [--json]`, the offline evaluation of a stack that the pull-request workflow runs for
 * every stack file: `{ stack, resources, violations }` on --json, every resource with urn, type, name, parent,
 * inputs and dependencies, exit 0 clean, 1 on a mandatory violation, 2 on bad config (nothing printed on stdout
 * then), 2 on bad usage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../../infra/synth/cli';

const FIXTURES = path.join(__dirname, '..', 'fixtures');

function sink(): Writable & { text: () => string } {
  let text = '';
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString('utf8');
      cb();
    },
  }) as Writable & { text: () => string };
  w.text = () => text;
  return w;
}

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  const code = await main(argv, out, err);
  return { code, out: out.text(), err: err.text() };
}

interface Json {
  stack: string;
  resources: Array<{ urn: string; type: string; name: string; parent?: string; inputs: Record<string, unknown>; dependencies: string[] }>;
  violations: Array<{ policyName: string; enforcementLevel: string; message: string; urn?: string }>;
}

test('--json: the stack, every resource with urn, type, name, parent, inputs, dependencies, and no violation; exit 0', async () => {
  const { code, out, err } = await run(['staging', '--json']);
  assert.equal(code, 0, err);
  const json = JSON.parse(out) as Json;
  assert.equal(json.stack, 'staging');
  assert.deepEqual(json.violations, []);
  assert.ok(json.resources.length > 20);
  for (const r of json.resources) {
    assert.match(r.urn, /^urn:pulumi:staging::lifeboat::/);
    assert.equal(typeof r.type, 'string');
    assert.equal(typeof r.name, 'string');
    assert.ok(r.inputs && typeof r.inputs === 'object');
    assert.ok(Array.isArray(r.dependencies));
    if (r.type !== 'pulumi:pulumi:Stack') assert.ok(r.parent, `${r.name} has no parent`);
  }
  const types = new Set(json.resources.map((r) => r.type));
  for (const component of ['BackupVault', 'RunnerSecrets', 'RunnerIdentity', 'CloudSqlProtection', 'RunnerJobs', 'Schedules', 'Alerts', 'DisasterRecovery']) {
    assert.ok(types.has(`lifeboat:gcp:${component}`), `no lifeboat:gcp:${component}`);
  }
});

test('the text form lists each resource and the policy verdict', async () => {
  const { code, out } = await run(['dr']);
  assert.equal(code, 0);
  assert.match(out, /^stack dr: \d+ resources/);
  assert.match(out, /type: lifeboat:gcp:RecoveryEnvironment/);
  assert.match(out, /policies: no violations/);
});

test('a mandatory policy violation: exit 1, the violation named in the JSON', async () => {
  const { code, out } = await run(['unlocked', '--json', '--stack-file', path.join(FIXTURES, 'Pulumi.unlocked.yaml')]);
  assert.equal(code, 1);
  const json = JSON.parse(out) as Json;
  const names = new Set(json.violations.filter((v) => v.enforcementLevel === 'mandatory').map((v) => v.policyName));
  assert.ok(names.has('gcs-retention-locked'), [...names].join(', '));
  assert.ok(names.has('cloudsql-pitr'), [...names].join(', '));
});

test('bad config: exit 2, every bad key named on stderr, nothing on stdout', async () => {
  const { code, out, err } = await run(['bad-config', '--json', '--stack-file', path.join(FIXTURES, 'Pulumi.bad-config.yaml')]);
  assert.equal(code, 2);
  assert.equal(out, '');
  assert.match(err, /lifeboat:databases\[0\]\.schedule: expected a 5-field cron.*got "nightly"/);
  assert.match(err, /lifeboat:retentionDays\.daily: expected a number above 0, got 0/);
});

test('a stack without a stack file, or no stack at all: exit 2', async () => {
  const missing = await run(['no-such-stack']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /Pulumi\.no-such-stack\.yaml to exist/);
  assert.equal((await run([])).code, 2);
});
