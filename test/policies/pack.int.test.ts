/**
 * The faithful check: the pack spawned as the Pulumi CLI spawns it, called over its Analyzer gRPC service with the
 * resources the offline synth records for every example stack, for the deliberately unsafe stack file, and for the
 * rule fixtures. The in-process runner (policies/run.ts) must give the same verdicts.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { RecordedResource } from '../../infra/synth/recorded';
import { REPO_ROOT, synthStack } from '../../infra/synth/synth';
import { policies } from '../../policies/policies';
import { runPolicies } from '../../policies/run';
import { PolicyPackProcess, type Diagnostic } from './analyzer';
import { UNKNOWN_VALUE, clone, setPath } from './fixtures/build';
import { awsStack } from './fixtures/aws';
import { gcpStack } from './fixtures/gcp';
import { k8sStack } from './fixtures/k8s';

let pack: PolicyPackProcess;

before(async () => {
  pack = await PolicyPackProcess.start();
});
after(async () => {
  await pack?.stop();
});

const names = (ds: { policyName: string }[]) => [...new Set(ds.map((d) => d.policyName))].sort();
const describe = (ds: Diagnostic[]) => ds.map((d) => `${d.policyName}: ${d.message.split('\n').pop()} (${d.urn.split('::').pop()})`).join('\n');

/** Every Pulumi.<stack>.yaml at the repository root is an example stack. */
const exampleStacks = readdirSync(REPO_ROOT)
  .map((f) => /^Pulumi\.([a-z0-9-]+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => s !== undefined)
  .sort();

test('the pack serves every rule of policies.ts with its enforcement level and config schema', async () => {
  const info = await pack.info();
  assert.equal(info.name, 'lifeboat');
  assert.deepEqual(info.policies.map((p) => p.name).sort(), policies.map((p) => p.name).sort());
  for (const p of info.policies) {
    const local = policies.find((x) => x.name === p.name)!;
    assert.equal(p.enforcementLevel, local.enforcementLevel, p.name);
    assert.ok(p.configSchema && typeof p.configSchema === 'object' && 'waivers' in (p.configSchema as object), `${p.name} has a waivers schema`);
  }
});

test('there are example stacks to check', () => {
  assert.ok(exampleStacks.length >= 3, `found ${exampleStacks.join(', ')}`);
});

for (const stack of exampleStacks) {
  test(`example stack ${stack}: its synth passes the whole pack over gRPC and in-process`, async () => {
    const { resources } = await synthStack(stack);
    assert.ok(resources.length > 0);
    const diagnostics = await pack.analyzeAll(resources);
    assert.deepEqual(diagnostics, [], describe(diagnostics));
    assert.deepEqual(await runPolicies(resources), []);
  });
}

test('the deliberately unsafe stack file fails with the expected rule ids, the same over gRPC and in-process', async () => {
  const stackFile = path.join(__dirname, 'fixtures', 'Pulumi.unsafe.yaml');
  const { resources } = await synthStack('unsafe', { stackFile });
  const expected = [
    'cloudsql-deletion-protection',
    'cloudsql-log-retention',
    'cloudsql-pitr',
    'cloudsql-retained-backups',
    'gcs-retention-locked',
    'stack-dr-region',
  ];
  const diagnostics = await pack.analyzeAll(resources);
  assert.deepEqual(names(diagnostics), expected, describe(diagnostics));
  assert.ok(diagnostics.every((d) => d.enforcementLevel === 'mandatory'));
  assert.deepEqual(names(await runPolicies(resources)), expected);
});

const fixtures: [string, () => RecordedResource[]][] = [['gcp', gcpStack], ['aws', awsStack], ['kubernetes', k8sStack]];
for (const [platform, fixture] of fixtures) {
  test(`${platform} rule fixture: clean over gRPC`, async () => {
    const diagnostics = await pack.analyzeAll(fixture());
    assert.deepEqual(diagnostics, [], describe(diagnostics));
  });
}

function changed(fixture: () => RecordedResource[], name: string, change: (inputs: Record<string, unknown>) => void): RecordedResource[] {
  const resources = clone(fixture());
  change(resources.find((r) => r.name === name)!.inputs);
  return resources;
}

test('over gRPC: a failing change is reported with its rule id on the resource', async () => {
  const resources = changed(gcpStack, 'vault-bucket', (i) => setPath(i, ['publicAccessPrevention'], 'inherited'));
  const diagnostics = await pack.analyze(resources);
  assert.deepEqual(names(diagnostics), ['gcs-public-access-prevention']);
  assert.equal(diagnostics[0].enforcementLevel, 'mandatory');
});

test('over gRPC: values unknown at preview are not reported, not even as "cannot run during preview"', async () => {
  const resources = changed(gcpStack, 'orders-instance', (i) => setPath(i, ['settings', 'backupConfiguration'], UNKNOWN_VALUE));
  const k8s = changed(k8sStack, 'jobs-orders-backup', (i) => setPath(i, ['spec', 'jobTemplate', 'spec', 'template', 'spec', 'securityContext'], UNKNOWN_VALUE));
  const aws = changed(awsStack, 'runner-backup-storage', (i) => setPath(i, ['policy'], UNKNOWN_VALUE));
  for (const r of [resources, k8s, aws]) {
    const diagnostics = await pack.analyzeAll(r);
    assert.deepEqual(diagnostics, [], describe(diagnostics));
  }
});

test('over gRPC: a stack rule reports on the offending resource', async () => {
  const resources = changed(awsStack, 'runner-backup-storage', (i) =>
    setPath(i, ['policy'], JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 's3:DeleteObject', Resource: '*' }] })),
  );
  const diagnostics = await pack.analyzeStack(resources);
  assert.deepEqual(names(diagnostics), ['aws-backup-identity-no-delete']);
  assert.equal(diagnostics[0].urn, resources.find((r) => r.name === 'runner-backup-storage')!.urn);
});

test('over gRPC: config thresholds and waivers apply; a waiver without a reason is reported and not applied', async () => {
  const resources = changed(gcpStack, 'vault-bucket', (i) => setPath(i, ['retentionPolicy', 'isLocked'], false));
  try {
    await pack.configure({ 'gcs-retention-locked': { waivers: [{ pattern: 'vault-*', reason: 'locked by hand after the audit (TICKET-12)' }] } });
    assert.deepEqual(await pack.analyze(resources), []);

    await pack.configure({ 'gcs-retention-locked': { waivers: [{ pattern: 'vault-*', reason: '  ' }] } });
    const unreasoned = await pack.analyze(resources);
    assert.deepEqual(names(unreasoned), ['gcs-retention-locked']);
    assert.ok(unreasoned.some((d) => /gives no reason/.test(d.message)), describe(unreasoned));
    assert.ok(unreasoned.some((d) => /isLocked is false/.test(d.message)), 'the violation itself is still reported');

    await pack.configure({ 'cloudsql-retained-backups': { minRetainedBackups: 30 } });
    assert.deepEqual(names(await pack.analyze(gcpStack())), ['cloudsql-retained-backups']);

    await pack.configure({ 'gcs-retention-locked': { enforcementLevel: 'advisory' } });
    const advisory = await pack.analyze(resources);
    assert.deepEqual(advisory.map((d) => d.enforcementLevel), ['advisory']);
  } finally {
    await pack.configure({});
  }
});
