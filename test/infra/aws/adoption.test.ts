// Adopting an existing RDS instance changes nothing but the backup settings: every other input of aws.rds.Instance
// is ignored (current Pulumi CLIs import and then update to the declared inputs, so an input left out would be
// reset: log exports, Performance Insights, monitoring, tags).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ADOPTED_IGNORED_PROPERTIES, ADOPTED_OWNED_PROPERTIES } from '../../../infra/aws/RdsProtection';
import { synthStack } from '../../../infra/synth/synth';

/** The input names of aws.rds.Instance, read from the installed provider's InstanceArgs declaration. */
function instanceArgs(): string[] {
  const dts = readFileSync(require.resolve('@pulumi/aws/rds/instance.d.ts'), 'utf8');
  const body = /export interface InstanceArgs \{([\s\S]*?)\n\}/.exec(dts)?.[1];
  assert.ok(body, 'InstanceArgs not found in @pulumi/aws/rds/instance.d.ts');
  return [...body.matchAll(/^ {4}(?:readonly )?([a-zA-Z]+)\??:/gm)].map((m) => m[1]!);
}

test('every input of aws.rds.Instance is either owned by Lifeboat (the backup settings) or ignored on adoption', () => {
  const inputs = instanceArgs();
  assert.ok(inputs.length > 50, `read ${inputs.length} inputs`);
  const owned = new Set<string>(ADOPTED_OWNED_PROPERTIES);
  const ignored = new Set(ADOPTED_IGNORED_PROPERTIES);
  assert.deepEqual([...owned].filter((p) => ignored.has(p)), [], 'owned and ignored at once');
  assert.deepEqual(inputs.filter((p) => !owned.has(p) && !ignored.has(p)), [], 'inputs an adoption would reset');
  assert.deepEqual([...owned, ...ignored].filter((p) => !inputs.includes(p)), [], 'names that are not inputs of aws.rds.Instance');
  for (const p of ['enabledCloudwatchLogsExports', 'performanceInsightsEnabled', 'monitoringInterval', 'maintenanceWindow', 'parameterGroupName', 'tags']) {
    assert.ok(ignored.has(p), p);
  }
});

test('the adopted instance of aws-prod is imported, kept on destroy, and ignores every input but the backup settings', async () => {
  const r = await synthStack('aws-prod');
  const adopted = r.resources.find((x) => x.name === 'lifeboat-prod-orders-rds-instance')!;
  assert.equal(adopted.importId, 'orders-pg');
  assert.equal(adopted.retainOnDelete, true, 'destroying the stack leaves the adopted instance');
  assert.deepEqual([...(adopted.ignoreChanges ?? [])].sort(), [...ADOPTED_IGNORED_PROPERTIES].sort());
  const declared = Object.keys(adopted.inputs).filter((k) => !(adopted.ignoreChanges ?? []).includes(k));
  for (const k of declared) assert.ok((ADOPTED_OWNED_PROPERTIES as readonly string[]).includes(k), `${k} would be changed on adoption`);
  assert.deepEqual(
    Object.fromEntries(['backupRetentionPeriod', 'backupWindow', 'copyTagsToSnapshot', 'deletionProtection'].map((k) => [k, adopted.inputs[k]])),
    { backupRetentionPeriod: 35, backupWindow: '01:00-01:30', copyTagsToSnapshot: true, deletionProtection: true },
  );
  const created = r.resources.find((x) => x.name === 'lifeboat-prod-billing-rds-instance')!;
  assert.equal(created.ignoreChanges, undefined, 'a created instance is the stack\'s own');
});
