// The Kubernetes example stack, evaluated offline: every object validated against the Kubernetes schemas, and the
// whole policy pack passes.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { CronJob, type ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { synthStack, stackConfig, type SynthResult } from '../../../infra/synth/synth';
import { runPolicies } from '../../../policies/run';
import { ConfigError, decodeConfigValues, parseConfig } from '../../../infra/config/load';
import { checkKubernetes } from '../../../infra/platforms/kubernetes';
import type { RecordedResource } from '../../../infra/synth/recorded';

const MODELS: Record<string, (o: Record<string, unknown>) => { validate(): void }> = {
  'kubernetes:core/v1:Namespace': (o) => new Namespace(o as never),
  'kubernetes:core/v1:ServiceAccount': (o) => new ServiceAccount(o as never),
  'kubernetes:batch/v1:CronJob': (o) => new CronJob(o as never),
  'kubernetes:monitoring.coreos.com/v1:PrometheusRule': (o) => new PrometheusRule(o as never),
};

const one = (r: SynthResult, name: string): RecordedResource => {
  const found = r.resources.filter((x) => x.name === name);
  assert.equal(found.length, 1, `expected one resource named ${name}, got ${found.length}`);
  return found[0]!;
};

function validate(overrides: Record<string, unknown>): void {
  const { config } = stackConfig('k8s-prod', { config: overrides });
  checkKubernetes(parseConfig(decodeConfigValues(config), 'k8s-prod'));
}

describe('Pulumi.k8s-prod.yaml', () => {
  let r: SynthResult;
  before(async () => {
    r = await synthStack('k8s-prod');
  });

  it('has unique resource names and URNs', () => {
    const urns = r.resources.map((x) => x.urn);
    assert.equal(new Set(urns).size, urns.length);
    const k8sNames = r.resources
      .filter((x) => x.type.startsWith('kubernetes:'))
      .map((x) => `${x.type}/${JSON.stringify((x.inputs.metadata as Record<string, unknown>).name)}`);
    assert.equal(new Set(k8sNames).size, k8sNames.length);
  });

  it('validates every Kubernetes object against its schema', () => {
    const objects = r.resources.filter((x) => x.type.startsWith('kubernetes:'));
    // Namespace, 2 ServiceAccounts, 3 runner CronJobs, 3 PITR CronJobs (heartbeat, archiving check, drill), the rule.
    assert.equal(objects.length, 1 + 2 + 3 + 3 + 1, objects.map((o) => o.type).join(', '));
    for (const o of objects) {
      const model = MODELS[o.type];
      assert.ok(model, `no schema for ${o.type}`);
      assert.doesNotThrow(() => model(o.inputs).validate(), `${o.type} ${o.name}`);
    }
  });

  it('passes the whole policy pack', async () => {
    const violations = await runPolicies(r.resources);
    assert.deepEqual(violations.map((v) => `${v.policyName}: ${v.message}`), []);
  });

  it('annotates each service account with a role this stack creates, trusting exactly that account (IRSA)', () => {
    for (const id of ['backup', 'drill']) {
      const sa = one(r, `lifeboat-k8s-namespace-${id}`);
      const annotation = ((sa.inputs.metadata as Record<string, unknown>).annotations as Record<string, string>)['eks.amazonaws.com/role-arn'];
      const role = one(r, `lifeboat-k8s-storage-runner-${id}`);
      // The mocks give a role the ARN of its resource: the annotation names a role of this stack, not a guessed name.
      assert.equal(annotation, `arn:aws:iam::123456789012:role/${role.name}`);
      const trust = JSON.parse(role.inputs.assumeRolePolicy as string) as { Statement: { Principal: Record<string, string>; Condition: { StringEquals: Record<string, string> } }[] };
      assert.deepEqual(trust.Statement.map((x) => Object.keys(x.Principal)), [['Federated']], 'trusted by the cluster, not by ECS tasks');
      assert.ok(Object.values(trust.Statement[0]!.Condition.StringEquals).includes(`system:serviceaccount:lifeboat-k8s:lifeboat-${id}`));
    }
  });

  it('owns both buckets, expires every class under the storage root k8s/, and lets the drill role read the DR copy', () => {
    assert.equal(one(r, 'lifeboat-k8s-storage-backups-bucket').inputs.bucket, 'lifeboat-k8s-backups-123456789012-eu-west-1');
    assert.equal(one(r, 'lifeboat-k8s-storage-backups-dr-bucket').inputs.region, 'eu-central-1');
    for (const name of ['lifeboat-k8s-storage-backups-lifecycle', 'lifeboat-k8s-storage-backups-dr-lifecycle']) {
      const rules = one(r, name).inputs.rules as { filter: { prefix: string }; expiration?: { days: number } }[];
      for (const cls of ['daily', 'weekly', 'monthly', 'yearly', 'manual']) {
        assert.ok(rules.some((x) => x.filter.prefix === `k8s/${cls}/` && x.expiration), `${name}: no expiry of k8s/${cls}/`);
      }
    }
    const drillDr = JSON.parse(one(r, 'lifeboat-k8s-storage-runner-drill-read-1').inputs.policy as string) as { Statement: { Action: string[]; Resource: string | string[] }[] };
    assert.ok(drillDr.Statement.some((x) => x.Action.includes('s3:GetObject') && x.Resource === 'arn:aws:s3:::lifeboat-k8s-backups-123456789012-eu-central-1/k8s/*'));
    assert.ok(drillDr.Statement.every((x) => x.Action.every((a) => !/Delete|Put/.test(a))), 'the DR copy is read only');
    assert.equal(r.outputs.drBackupKeyArn, 'arn:aws:kms:eu-central-1:123456789012:key/lifeboat-k8s-storage-backups-dr-key');
  });

  it('runs each job as its identity', () => {
    const drill = one(r, 'lifeboat-k8s-cronjobs-orders-drill').inputs as unknown as ICronJob;
    assert.equal(drill.spec!.timeZone, 'Europe/Berlin');
    assert.equal(drill.spec!.jobTemplate.spec!.activeDeadlineSeconds, 14400);
    const pod = drill.spec!.jobTemplate.spec!.template.spec!;
    assert.equal(pod.serviceAccountName, 'lifeboat-drill');
    const container = pod.containers[0]!;
    assert.deepEqual(container.args, ['drill', '--backup', 'latest', '--rpo', '26h', '--rto', '1h', '--amcheck']);
    assert.equal(pod.volumes![0]!.emptyDir!.sizeLimit, '50Gi');
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e]));
    assert.equal(env.LIFEBOAT_STORAGE!.value, 's3://lifeboat-k8s-backups-123456789012-eu-west-1/k8s');
    assert.deepEqual(env.LIFEBOAT_SCRATCH_URL!.valueFrom, { secretKeyRef: { name: 'lifeboat-k8s-orders-scratch-url', key: 'value' } });
  });

  it('has failure and staleness alerts routed to the receiver', () => {
    const rule = one(r, 'lifeboat-k8s-alerts-rule').inputs as { metadata: { labels: Record<string, string> }; spec: { groups: { rules: { alert: string; labels: Record<string, string> }[] }[] } };
    assert.equal(rule.metadata.labels.release, 'kube-prometheus-stack');
    const rules = rule.spec.groups[0]!.rules;
    assert.deepEqual(rules.map((x) => x.alert), [
      'LifeboatOrdersBackupFailed',
      'LifeboatOrdersBackupStale',
      'LifeboatOrdersDrillFailed',
      'LifeboatSessionsRedisBackupFailed',
      'LifeboatSessionsRedisBackupStale',
      'LifeboatOrdersPitrHeartbeatFailed',
      'LifeboatOrdersPitrArchivingFailed',
      'LifeboatOrdersPitrDrillFailed',
      'LifeboatOrdersPitrArchivingStale',
      'LifeboatOrdersPitrDrillMissing',
    ]);
    for (const x of rules) assert.equal(x.labels.receiver, 'oncall-pagerduty');
  });

  it('prints a run-now command per task', () => {
    const runNow = r.outputs.runNow as Record<string, string>;
    assert.match(runNow['orders-backup']!, /^kubectl -n lifeboat-k8s create job --from=cronjob\/lifeboat-orders-backup /);
  });
});

describe('Kubernetes stack config errors', () => {
  it('the example stack itself validates', () => validate({}));
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['no section', { 'lifeboat:kubernetes': undefined }, /lifeboat:kubernetes: expected the Kubernetes section/],
    ['bad storage URL', { 'lifeboat:kubernetes': { storage: { url: 'ftp://x' } } }, /lifeboat:kubernetes\.storage\.url: expected an s3:\/\/ or gs:\/\/ bucket URL, got "ftp:\/\/x"/],
    ['both identities', { 'lifeboat:kubernetes': { storage: { url: 's3://bkt' }, prometheusOperator: true, identity: { gcpServiceAccounts: { backup: 'lifeboat-b@p-roj.iam.gserviceaccount.com', drill: 'lifeboat-d@p-roj.iam.gserviceaccount.com' }, awsRoleArns: { backup: 'arn:aws:iam::123456789012:role/a', drill: 'arn:aws:iam::123456789012:role/b' } } } }, /identity: expected gcpServiceAccounts or awsRoleArns, not both/],
    ['no operator in production', { 'lifeboat:kubernetes': { storage: { url: 's3://bkt' } } }, /prometheusOperator: expected true in a non-ephemeral stack/],
    ['email channels', { 'lifeboat:alerts': { emails: ['a@b.co'] } }, /lifeboat:alerts: on kubernetes, alerts are routed by your Alertmanager/],
    ['secret name not a Kubernetes name', { 'lifeboat:databases': [{ name: 'orders', secrets: { databaseUrl: 'Orders_URL' } }] }, /databases\[0\]\.secrets\.databaseUrl: expected a Kubernetes Secret name.*"Orders_URL"/],
  ];
  for (const [what, config, re] of cases) {
    it(what, () => {
      assert.throws(() => validate(config), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.match((e as Error).message, re);
        return true;
      });
    });
  }
});
