/**
 * stack-backup-lock-per-class: a backup job in a stack with a backup bucket locks each backup for its own class,
 * unless the bucket's lock already covers the longest class; a GCS bucket it locks in has object retention.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETENTION_DAYS } from '../../runner/contract/layout';
import { RUNNER_DEFAULT_DAYS } from '../../policies/rules/stack/backup-lock-per-class';
import type { RecordedResource } from '../../infra/synth/recorded';
import { defineRuleCases, type RuleCase } from './cases';
import { UNKNOWN_VALUE, setPath } from './fixtures/build';
import { awsStack } from './fixtures/aws';
import { gcpStack } from './fixtures/gcp';

const RULE = 'stack-backup-lock-per-class';
type Env = Array<{ name: string; value?: string }>;

/** Edits the env of a Cloud Run job's container: `value` undefined removes the variable. */
const cloudRunEnv = (name: string, value: string | undefined) => (inputs: Record<string, unknown>) => {
  const c = (inputs.template as { template: { containers: Array<{ envs: Env }> } }).template.containers[0]!;
  c.envs = c.envs.filter((e) => e.name !== name);
  if (value !== undefined) c.envs.push({ name, value });
};
/** The same for an ECS task definition (its container definitions are a JSON string). */
const ecsEnv = (name: string, value: string | undefined) => (inputs: Record<string, unknown>) => {
  const defs = JSON.parse(String(inputs.containerDefinitions)) as Array<{ environment: Env }>;
  defs[0]!.environment = defs[0]!.environment.filter((e) => e.name !== name);
  if (value !== undefined) defs[0]!.environment.push({ name, value });
  inputs.containerDefinitions = JSON.stringify(defs);
};
const bucket = (all: RecordedResource[]) => all.find((r) => r.name === 'vault-bucket')!.inputs;

test("the rule's default days are the runner's", () => {
  assert.deepEqual({ ...RUNNER_DEFAULT_DAYS }, { ...DEFAULT_RETENTION_DAYS });
});

defineRuleCases('gcp (per-class lock)', gcpStack, [
  { rule: RULE, title: 'backup job without LIFEBOAT_OBJECT_LOCK', target: 'jobs-orders-backup', change: cloudRunEnv('LIFEBOAT_OBJECT_LOCK', undefined), message: /sets no LIFEBOAT_OBJECT_LOCK: its yearly \(2557 days\), monthly \(400 days\), manual \(90 days\), weekly \(35 days\) backups are locked only for the bucket's 7 days$/ },
  { rule: RULE, title: 'a mode the runner refuses', target: 'jobs-orders-backup', change: cloudRunEnv('LIFEBOAT_OBJECT_LOCK', 'on'), message: /sets LIFEBOAT_OBJECT_LOCK to "on", not governance or compliance/ },
  { rule: RULE, title: 'retention days the runner refuses', target: 'jobs-orders-backup', change: cloudRunEnv('LIFEBOAT_RETENTION_DAYS', 'yearly=ten'), message: /not comma-separated CLASS=DAYS pairs/ },
  { rule: RULE, title: 'no lock, a bucket floor of 400 days: only yearly is short', target: 'jobs-orders-backup', change: (i, all) => { cloudRunEnv('LIFEBOAT_OBJECT_LOCK', undefined)(i); setPath(bucket(all), ['retentionPolicy', 'retentionPeriod'], String(400 * 86400)); }, message: /its yearly \(2557 days\) backups are locked only for the bucket's 400 days$/ },
  { rule: RULE, title: "no lock, but the bucket's lock covers the longest class", target: 'jobs-orders-backup', change: (i, all) => { cloudRunEnv('LIFEBOAT_OBJECT_LOCK', undefined)(i); setPath(bucket(all), ['retentionPolicy', 'retentionPeriod'], String(2557 * 86400)); }, passes: true },
  { rule: RULE, title: 'no lock, classes shortened to the bucket floor', target: 'jobs-orders-backup', change: (i) => { cloudRunEnv('LIFEBOAT_OBJECT_LOCK', undefined)(i); cloudRunEnv('LIFEBOAT_RETENTION_DAYS', 'daily=7,weekly=7,monthly=7,yearly=7,manual=7')(i); }, passes: true },
  { rule: RULE, title: 'locked uploads into a bucket without object retention', target: 'vault-bucket', change: set(['enableObjectRetention'], false), message: /no object retention \(enableObjectRetention\)/ },
  { rule: RULE, title: 'lock variable unknown at preview', target: 'jobs-orders-backup', change: cloudRunEnv('LIFEBOAT_OBJECT_LOCK', UNKNOWN_VALUE), passes: true },
  { rule: RULE, title: 'no lock in an ephemeral stack', target: 'jobs-orders-backup', change: cloudRunEnv('LIFEBOAT_OBJECT_LOCK', undefined), opts: { stackTags: { 'lifeboat:ephemeral': 'true' } }, passes: true },
  { rule: RULE, title: 'no lock, waived with a reason', target: 'jobs-orders-backup', change: cloudRunEnv('LIFEBOAT_OBJECT_LOCK', undefined), opts: { config: { [RULE]: { waivers: [{ pattern: 'jobs-orders-backup', reason: 'the bucket is copied nightly to WORM tape (TICKET-31)' }] } } }, passes: true },
  { rule: RULE, title: 'waiver without a reason', target: 'jobs-orders-backup', change: cloudRunEnv('LIFEBOAT_OBJECT_LOCK', undefined), opts: { config: { [RULE]: { waivers: [{ pattern: 'jobs-orders-backup' }] } } }, message: /gives no reason/ },
  { rule: RULE, title: 'the drill job needs no lock', target: 'jobs-orders-drill', change: cloudRunEnv('LIFEBOAT_OBJECT_LOCK', undefined), passes: true },
] satisfies RuleCase[]);

function set(path: (string | number)[], value: unknown) {
  return (inputs: Record<string, unknown>) => setPath(inputs, path, value);
}

defineRuleCases('aws (per-class lock)', awsStack, [
  { rule: RULE, title: 'ECS backup task without LIFEBOAT_OBJECT_LOCK', target: 'tasks-orders-backup', change: ecsEnv('LIFEBOAT_OBJECT_LOCK', undefined), message: /locked only for the bucket's 7 days$/ },
  { rule: RULE, title: "no lock, but a default retention in years covers every class", target: 'tasks-orders-backup', change: (i, all) => { ecsEnv('LIFEBOAT_OBJECT_LOCK', undefined)(i); for (const r of all.filter((x) => x.type === 'aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration')) r.inputs.rule = { defaultRetention: { mode: 'COMPLIANCE', years: 10 } }; }, passes: true },
  { rule: RULE, title: 'governance in upper case (the runner takes any case)', target: 'tasks-orders-backup', change: ecsEnv('LIFEBOAT_OBJECT_LOCK', 'GOVERNANCE'), passes: true },
  // The backup role sets each backup's lock: s3:PutObjectRetention is allowed, bypassing a lock is not.
  { rule: 'aws-backup-identity-no-delete', title: 'backup role that may set object retention', target: 'runner-backup-storage', change: backupStatement(['s3:PutObjectRetention']), passes: true },
  { rule: 'aws-backup-identity-no-delete', title: 'backup role that may bypass governance retention', target: 'runner-backup-storage', change: backupStatement(['s3:PutObjectRetention', 's3:BypassGovernanceRetention']), message: /s3:BypassGovernanceRetention/ },
] satisfies RuleCase[]);

/** Adds an Allow statement with `actions` on the backups to the backup role's inline policy. */
function backupStatement(actions: string[]) {
  return (inputs: Record<string, unknown>) => {
    const doc = JSON.parse(String(inputs.policy)) as { Statement: unknown[] };
    doc.Statement.push({ Effect: 'Allow', Action: actions, Resource: 'arn:aws:s3:::vault/*' });
    inputs.policy = JSON.stringify(doc);
  };
}
