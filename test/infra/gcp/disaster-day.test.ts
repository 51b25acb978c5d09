/**
 * "The primary region is gone", and what retention, deletion and adoption must not break, on GCP: checked on the
 * example stacks the offline synth evaluates (prod, dr, and prod-recovered, the stack that protects the recovered
 * databases), their inputs, options and policy verdicts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { synthStack, REPO_ROOT, type SynthResult } from '../../../infra/synth/synth';
import { ConfigError } from '../../../infra/config/load';
import { ADOPT_MANAGED_SETTINGS, ADOPT_UNMANAGED_SETTINGS, adoptIgnoreChanges } from '../../../infra/gcp/CloudSqlProtection';
import { STS_SINK_PERMISSIONS, STS_SOURCE_PERMISSIONS } from '../../../infra/gcp/DisasterRecovery';
import { runPolicies } from '../../../policies/run';
import { locationsOverlap } from '../../../policies/lib/regions';

const cache = new Map<string, Promise<SynthResult>>();
function synth(stack: string): Promise<SynthResult> {
  if (!cache.has(stack)) cache.set(stack, synthStack(stack));
  return cache.get(stack)!;
}
const ofType = (r: SynthResult, type: string) => r.resources.filter((x) => x.type === type);
const named = (r: SynthResult, name: string) => {
  const found = r.resources.find((x) => x.name === name);
  assert.ok(found, `no resource named ${name}`);
  return found;
};
const get = (o: unknown, ...keys: (string | number)[]): unknown => keys.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], o);

test("the application's secret can take a new version while the primary region is down: its one replica is in the DR region", async () => {
  const prod = await synth('prod');
  const app = named(prod, 'secrets-orders-app-database-url');
  assert.deepEqual(get(app.inputs, 'replication', 'userManaged', 'replicas'), [{ location: 'europe-north1' }]);
  assert.equal(get(app.inputs, 'labels', 'lifeboat-role'), 'application-secret');
});

test('the DR restore brings back roles, owners and grants, and the application is repointed with its own role, never the restore user', async () => {
  const dr = await synth('dr');
  const job = named(dr, 'recovery-jobs-orders-restore');
  assert.deepEqual(get(job.inputs, 'template', 'template', 'containers', 0, 'args'), ['restore', 'latest', '--create', '--roles']);
  const appUrl = named(dr, 'recovery-orders-app-url-v1');
  assert.deepEqual(appUrl.secretInputs, ['secretDataWo']);
  const repoint = String(get(dr.outputs, 'repointApplicationCommands', 'orders'));
  assert.match(repoint, /^gcloud secrets versions access latest --secret lifeboat-prod-dr-orders-application-url --project acme-prod \| gcloud secrets versions add orders-app-database-url --project acme-prod --data-file=-$/);
  assert.doesNotMatch(repoint, /recovery-url/, 'the restore user\'s URL never reaches the application');
  assert.equal(get(dr.outputs, 'applicationPasswordCommands', 'orders'), '.github/scripts/sql-role-password.sh acme-prod orders-pg-dr orders_app lifeboat-prod-dr-orders-application-url');
  // A dr stack that repoints an application must know the role it logs in as.
  await assert.rejects(
    synthStack('dr', { config: { 'lifeboat:databases': [{ name: 'orders', instance: { mode: 'create', name: 'orders-pg' }, secrets: { application: 'orders-app-database-url' } }] } }),
    (e: unknown) => e instanceof ConfigError && /lifeboat:databases\[0\]\.applicationRole: expected the PostgreSQL role/.test(e.message),
  );
});

test('the recovery instances are handed over: destroying the dr stack leaves them running and unprotected by Pulumi, Cloud SQL protection on', async () => {
  const dr = await synth('dr');
  for (const name of ['recovery-orders-instance', 'recovery-billing-instance']) {
    const inst = named(dr, name);
    assert.equal(inst.retainOnDelete, true, name);
    assert.notEqual(inst.protect, true, `${name}: a Pulumi-protected instance could only be adopted by another stack while this one still claims it`);
    assert.equal(get(inst.inputs, 'settings', 'deletionProtectionEnabled'), true);
  }
  for (const user of ofType(dr, 'gcp:sql/user:User')) assert.equal(user.retainOnDelete, true, user.name);
});

test('the stack protecting the recovered databases collides with nothing the lost prod stack holds and passes the pack', async () => {
  const [prod, recovered, dr] = await Promise.all([synth('prod'), synth('prod-recovered'), synth('dr')]);
  assert.deepEqual(await runPolicies(recovered.resources), []);
  const cloudNames = (r: SynthResult) => new Set(r.resources.flatMap((x) => {
    const n = x.inputs.name ?? x.inputs.secretId ?? x.inputs.accountId ?? x.inputs.roleId;
    // Instances are adopted on purpose (the dr stack hands them over); an IAM member is one member's grant, not a name.
    if (typeof n !== 'string' || x.type === 'gcp:sql/databaseInstance:DatabaseInstance' || /IamMember|IAMMember/.test(x.type)) return [];
    return [`${x.type} ${n}`];
  }));
  const prodNames = cloudNames(prod);
  const clashes = [...cloudNames(recovered)].filter((n) => prodNames.has(n));
  assert.deepEqual(clashes, []);
  // The secrets the old stack created and that stay valid are used, not created again.
  const secretIds = ofType(recovered, 'gcp:secretmanager/secret:Secret').map((s) => s.inputs.secretId);
  for (const id of ['lifeboat-prod-age-identity', 'orders-app-database-url']) {
    assert.ok(!secretIds.includes(id), `${id} is created again`);
    assert.ok(!(recovered.outputs.secretsToFill as string[]).includes(id));
  }
  assert.ok(ofType(recovered, 'gcp:secretmanager/secretIamMember:SecretIamMember').some((m) => m.inputs.secretId === 'lifeboat-prod-age-identity'), 'restores may still read the age identity');
  // No bucket in the lost region.
  for (const b of ofType(recovered, 'gcp:storage/bucket:Bucket')) assert.ok(!locationsOverlap(String(b.inputs.location), 'europe-west1'), `${b.name} in ${String(b.inputs.location)}`);
  // It adopts exactly the instances the dr stack made.
  const adopted = ofType(recovered, 'gcp:sql/databaseInstance:DatabaseInstance').map((i) => i.importId).sort();
  const made = ofType(dr, 'gcp:sql/databaseInstance:DatabaseInstance').map((i) => `projects/acme-prod/instances/${String(i.inputs.name)}`).sort();
  assert.deepEqual(adopted, made);
});

test('the dr stack restores Redis too: a Memorystore instance in the DR region, its URL secret from its outputs, a restore job over the VPC', async () => {
  const dr = await synth('dr');
  const redis = named(dr, 'recovery-sessions-redis');
  assert.equal(redis.type, 'gcp:redis/instance:Instance');
  assert.equal(redis.inputs.region, 'europe-north1');
  assert.equal(redis.inputs.authEnabled, true);
  assert.equal(redis.retainOnDelete, true, 'handed over on destroy, like the Cloud SQL recovery instances');
  const url = named(dr, 'recovery-sessions-redis-url-v1');
  assert.deepEqual(url.secretInputs, ['secretDataWo'], 'the AUTH string never in plain state');
  const job = named(dr, 'recovery-jobs-sessions-redis-restore');
  const t = get(job.inputs, 'template', 'template') as Record<string, unknown>;
  assert.deepEqual(get(t, 'containers', 0, 'args'), ['redis', 'restore', 'latest']);
  const envs = get(t, 'containers', 0, 'envs') as Array<{ name: string; value?: string; valueSource?: { secretKeyRef: { secret: string } } }>;
  assert.equal(envs.find((e) => e.name === 'LIFEBOAT_REDIS_URL')?.valueSource?.secretKeyRef.secret, 'lifeboat-prod-dr-sessions-recovery-url');
  assert.equal(envs.find((e) => e.name === 'LIFEBOAT_SOURCE')?.value, 'sessions');
  assert.ok(envs.some((e) => e.name === 'LIFEBOAT_AGE_IDENTITY'), 'encrypted backups decrypt');
  assert.deepEqual(t.vpcAccess, { egress: 'PRIVATE_RANGES_ONLY', networkInterfaces: [{ network: 'projects/acme-prod/global/networks/default', subnetwork: 'projects/acme-prod/regions/europe-north1/subnetworks/default' }] });
  assert.deepEqual(dr.outputs.redisRestoreJobs, {
    sessions: { job: 'lifeboat-prod-dr-sessions-redis-restore', project: 'acme-prod', region: 'europe-north1', instance: 'lifeboat-prod-dr-sessions', recoveryUrlSecret: 'lifeboat-prod-dr-sessions-recovery-url' },
  });
  await assert.rejects(
    synthStack('dr', { config: { 'lifeboat:gcp': { bucketLocation: 'EUR5' } } }),
    (e: unknown) => e instanceof ConfigError && /lifeboat:gcp\.recoveryNetwork: expected \{ network, subnetwork \}/.test(e.message),
  );
});

test('the DR restore runs the runner prod runs: prod exports its image, and a restore job on a tag is refused', async () => {
  const prod = await synth('prod');
  assert.match(String(prod.outputs.runnerImage), /@sha256:[0-9a-f]{64}$/);
  const tagged = await synthStack('dr', { config: { 'lifeboat:runnerImage': 'europe-docker.pkg.dev/acme-prod/lifeboat/runner:latest' } });
  const violations = (await runPolicies(tagged.resources)).filter((v) => v.policyName === 'cloudrun-restore-image-pinned');
  assert.equal(violations.length, 3, `two PostgreSQL restores and one Redis restore: ${JSON.stringify(violations)}`);
});

test('the transfer agent can replicate and cannot delete; the project grants to Google\'s agents outlive any one stack', async () => {
  for (const stack of ['prod', 'k8s-gke', 'prod-recovered']) {
    const r = await synth(stack);
    const roles = ofType(r, 'gcp:projects/iAMCustomRole:IAMCustomRole').filter((x) => /-sts-/.test(x.name));
    assert.equal(roles.length, 2, stack);
    for (const role of roles) assert.ok(!(role.inputs.permissions as string[]).some((p) => /delete|setIamPolicy/.test(p)), `${stack} ${role.name}`);
    const bucketGrants = ofType(r, 'gcp:storage/bucketIAMMember:BucketIAMMember').filter((m) => /storage-transfer-service/.test(String(m.inputs.member)));
    assert.equal(bucketGrants.length, 2, stack);
    for (const g of bucketGrants) assert.match(String(g.inputs.role), /\/roles\/lifeboat_replication_(source|sink)_[0-9a-f]{12}$/);
    const transfer = ofType(r, 'gcp:storage/transferJob:TransferJob')[0]!;
    assert.equal(get(transfer.inputs, 'replicationSpec', 'transferOptions', 'overwriteWhen'), 'NEVER', 'an overwrite would need delete');
    const shared = ofType(r, 'gcp:projects/iAMMember:IAMMember').filter((m) => /storage-transfer-service|gs-project-accounts/.test(String(m.inputs.member)));
    assert.equal(shared.length, 2, stack);
    for (const g of shared) assert.equal(g.retainOnDelete, true, `${stack} ${g.name}: destroying this stack must not stop another's replication`);
  }
  assert.deepEqual([...STS_SOURCE_PERMISSIONS], ['storage.buckets.get', 'storage.buckets.update', 'storage.objects.get', 'storage.objects.list']);
  assert.deepEqual([...STS_SINK_PERMISSIONS], ['storage.buckets.get', 'storage.objects.create', 'storage.objects.get', 'storage.objects.list']);
  // Two stacks in one project get different custom roles.
  const role = async (stack: string) => ofType(await synth(stack), 'gcp:projects/iAMCustomRole:IAMCustomRole').map((x) => x.inputs.roleId).sort();
  assert.notDeepEqual(await role('prod'), await role('k8s-gke'));
});

test('adopting a Cloud SQL instance manages its backup settings and nothing else', async () => {
  const prod = await synth('prod');
  const orders = named(prod, 'db-orders-instance');
  assert.equal(orders.importId, 'projects/acme-prod/instances/orders-pg');
  const ignored = new Set(orders.ignoreChanges);
  // Every setting the provider knows is either managed or ignored, so a new provider setting is noticed here.
  const types = readFileSync(path.join(REPO_ROOT, 'node_modules', '@pulumi', 'gcp', 'types', 'input.d.ts'), 'utf8');
  const body = /interface DatabaseInstanceSettings \{([\s\S]*?)\n {4}\}/.exec(types)![1]!;
  const settings = [...body.matchAll(/^ {8}([a-zA-Z]+)\??:/gm)].map((m) => m[1]!);
  assert.ok(settings.length > 30);
  for (const s of settings) {
    const managed = (ADOPT_MANAGED_SETTINGS as readonly string[]).includes(s);
    assert.equal(ignored.has(`settings.${s}`), !managed, `settings.${s}: ${managed ? 'managed, must not be ignored' : 'not managed, must be ignored'}`);
  }
  for (const s of ['databaseFlags', 'maintenanceWindow', 'insightsConfig', 'tier', 'ipConfiguration']) assert.ok(ignored.has(`settings.${s}`), s);
  assert.deepEqual(adoptIgnoreChanges().filter((p) => p.startsWith('settings.')).length, ADOPT_UNMANAGED_SETTINGS.length);
  // A created instance is managed whole.
  assert.equal(named(prod, 'db-billing-instance').ignoreChanges, undefined);
});
