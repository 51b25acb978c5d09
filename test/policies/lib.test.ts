import assert from 'node:assert/strict';
import { test } from 'node:test';
import { locationsOverlap } from '../../policies/lib/regions';
import { plaintextSecretReason } from '../../policies/lib/secrets';
import { findWaiver } from '../../policies/lib/waivers';
import { UNKNOWN, at, isUnknown, parseJsonInput, unwrap } from '../../policies/lib/values';
import { runPolicies } from '../../policies/run';
import { timeoutSeconds } from '../../policies/rules/aws/ecs-task-timeout';
import { UNKNOWN_VALUE } from './fixtures/build';
import { gcpStack } from './fixtures/gcp';

test('locationsOverlap: same region, dual-region members, multi-region prefixes', () => {
  const cases: [string, string, boolean][] = [
    ['europe-west1', 'europe-west1', true],
    ['europe-west1', 'europe-north1', false],
    ['EUR5', 'europe-west2', true],
    ['EUR5', 'europe-north1', false],
    ['EUR4', 'eur4', true],
    ['NAM4', 'us-east1', true],
    ['NAM4', 'us-west1', false],
    ['EU', 'europe-west3', true],
    ['US', 'EUR4', false],
    ['EU', 'EUR4', true],
    ['eu-west-1', 'eu-central-1', false],
  ];
  for (const [a, b, want] of cases) assert.equal(locationsOverlap(a, b), want, `${a} vs ${b}`);
});

test('plaintextSecretReason: names, values, references', () => {
  assert.match(plaintextSecretReason('PGPASSWORD', 'x') ?? '', /looks like a secret/);
  assert.match(plaintextSecretReason('LIFEBOAT_NOTE', 'postgresql://u:p@h/db') ?? '', /credential/);
  assert.match(plaintextSecretReason('KEY', '-----BEGIN OPENSSH PRIVATE KEY-----') ?? '', /credential/);
  assert.equal(plaintextSecretReason('DATABASE_URL_SECRET_NAME', 'orders-url'), undefined);
  assert.equal(plaintextSecretReason('LIFEBOAT_STORAGE', 's3://bucket/root'), undefined);
  assert.equal(plaintextSecretReason('LIFEBOAT_AGE_RECIPIENTS', 'age1qqqq'), undefined);
  assert.equal(plaintextSecretReason('PGHOST', 'postgres://host:5432/db'), undefined);
  assert.equal(plaintextSecretReason('PGPASSWORD', ''), undefined);
});

test('findWaiver: glob on name or URN; a reasonless waiver is returned without reason; a reasoned one wins', () => {
  assert.deepEqual(findWaiver([{ pattern: 'vault-*', reason: 'r' }], 'vault-bucket', 'urn:x'), { pattern: 'vault-*', reason: 'r' });
  assert.equal(findWaiver([{ pattern: 'vault-?', reason: 'r' }], 'vault-bucket', 'urn:x'), undefined);
  assert.deepEqual(findWaiver([{ pattern: '*BackupVault*', reason: 'r' }], 'b', 'urn:pulumi:s::p::lifeboat:gcp:BackupVault$gcp:storage/bucket:Bucket::b')?.reason, 'r');
  assert.deepEqual(findWaiver([{ pattern: 'v*' }], 'v1', 'urn'), { pattern: 'v*', reason: undefined });
  assert.deepEqual(findWaiver([{ pattern: 'v*', reason: ' ' }, { pattern: 'v1', reason: 'ok' }], 'v1', 'urn')?.reason, 'ok');
  assert.equal(findWaiver('not a list', 'v1', 'urn'), undefined);
});

test('values: unknown sentinels, paths through unknown containers, JSON with unknowns, proxy unwrap', () => {
  assert.ok(isUnknown(UNKNOWN_VALUE));
  assert.ok(isUnknown('1c4a061d-8072-4f0a-a4cb-0ff528b18fe7'));
  assert.equal(at({ a: UNKNOWN_VALUE }, 'a', 'b', 'c'), UNKNOWN);
  assert.equal(at({ a: { b: 1 } }, 'a', 'x'), undefined);
  assert.equal(at({ a: [{ b: 2 }] }, 'a', 0, 'b'), 2);
  assert.equal(parseJsonInput(`{"Statement":[{"Resource":"${UNKNOWN_VALUE}"}]}`), UNKNOWN);
  assert.equal(parseJsonInput('not json'), undefined);
  const target = { x: 1 };
  const proxy = new Proxy(target, { get: (o, p) => (p === '__getSpecialProxyTarget' ? o : (o as Record<string | symbol, unknown>)[p]) });
  assert.equal(unwrap(proxy), target);
});

test('timeoutSeconds: coreutils timeout argv', () => {
  assert.equal(timeoutSeconds(['timeout', '--signal=TERM', '--kill-after=60s', '7200s', 'node']), 7200);
  assert.equal(timeoutSeconds(['timeout', '-k', '10', '2h', 'node']), 7200);
  assert.equal(timeoutSeconds(['/usr/bin/timeout', '90', 'x']), 90);
  assert.equal(timeoutSeconds(['node', 'cli.js']), 'not-wrapped');
  assert.equal(timeoutSeconds(['timeout', 'soon']), undefined);
});

test('runPolicies: bad config is refused with the key, what was expected and what was given', async () => {
  await assert.rejects(runPolicies(gcpStack(), { config: { 'no-such-rule': 'advisory' } }), /unknown policy 'no-such-rule'/);
  await assert.rejects(runPolicies(gcpStack(), { config: { 'cloudsql-pitr': 'sometimes' } }), /must be one of advisory, mandatory, remediate, disabled, got 'sometimes'/);
  await assert.rejects(
    runPolicies(gcpStack(), { config: { 'cloudsql-retained-backups': { minRetainedBackups: 'many' } } }),
    /config key 'minRetainedBackups' must be integer >= 1, got "many"/,
  );
  await assert.rejects(runPolicies(gcpStack(), { config: { 'cloudsql-log-retention': { minLogRetentionDays: 0 } } }), /minLogRetentionDays/);
});

test('runPolicies: enforcement levels from config; disabled rules do not run', async () => {
  const resources = gcpStack();
  resources.find((r) => r.name === 'orders-instance')!.inputs.settings = { backupConfiguration: { enabled: false } };
  const advisory = await runPolicies(resources, { config: { 'cloudsql-backups-enabled': 'advisory', 'cloudsql-pitr': 'disabled' } });
  assert.deepEqual(advisory.filter((v) => v.policyName === 'cloudsql-backups-enabled').map((v) => v.enforcementLevel), ['advisory']);
  assert.equal(advisory.filter((v) => v.policyName === 'cloudsql-pitr').length, 0);
  assert.ok(advisory.some((v) => v.policyName === 'cloudsql-retained-backups' && v.enforcementLevel === 'mandatory'));
});
