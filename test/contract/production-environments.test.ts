// The infra's config loader and the policy pack must agree on which environments are production: the loader
// refuses `lifeboat:ephemeral: true` there, the pack refuses an ephemeral label or tag there. The pack cannot import
// the infra (it is deployed on its own), so the two lists are kept equal by this test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PRODUCTION_ENVIRONMENTS, isProductionEnvironment } from '../../infra/config/common';
import { policies } from '../../policies/policies';
import { runPolicies } from '../../policies/run';
import type { RecordedResource } from '../../infra/synth/recorded';

const RULE = 'stack-ephemeral-not-production';

test('the pack rule defaults to the loader production environments', () => {
  const rule = policies.find((p) => p.name === RULE);
  assert.ok(rule, `the pack has no rule ${RULE}`);
  const schema = rule.configSchema?.properties?.productionEnvironments as { default?: unknown } | undefined;
  assert.deepEqual(schema?.default, [...PRODUCTION_ENVIRONMENTS]);
});

function ephemeralBucket(environment: string): RecordedResource {
  return {
    urn: 'urn:pulumi:x::lifeboat::lifeboat:gcp:BackupVault$gcp:storage/bucket:Bucket::vault-bucket',
    type: 'gcp:storage/bucket:Bucket',
    name: 'vault-bucket',
    inputs: { labels: { 'lifeboat-environment': environment, 'lifeboat-ephemeral': 'true' } },
    dependencies: [],
    custom: true,
  };
}

for (const environment of ['prod', 'production', 'prod-eu', 'production-us', 'staging', 'preprod', 'pr-42', 'products', 'dev-prod']) {
  test(`loader and pack agree on ${environment}`, async () => {
    const violations = (await runPolicies([ephemeralBucket(environment)])).filter((v) => v.policyName === RULE);
    assert.equal(violations.length > 0, isProductionEnvironment(environment), JSON.stringify(violations));
  });
}

test('prod and prod-eu are production, preprod and products are not (a sanity check on the shared reading)', () => {
  assert.deepEqual(['prod', 'prod-eu', 'preprod', 'products'].map(isProductionEnvironment), [true, true, false, false]);
});
