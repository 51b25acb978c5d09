// The example stacks with lifeboat:pitr, through the offline synth: the PITR jobs wired to their schedules,
// identities, rights and alerts on each platform; and the policy pack refusing the production stack without them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { synthStack, type SynthResult } from '../../../infra/synth/synth';
import type { RecordedResource } from '../../../infra/synth/recorded';
import { runPolicies } from '../../../policies/run';

const named = (r: SynthResult, name: string): RecordedResource => {
  const found = r.resources.filter((x) => x.name === name);
  assert.equal(found.length, 1, `expected one resource named ${name}, got ${found.length}`);
  return found[0]!;
};

test('aws-prod: the RDS PITR drill task runs the drill by identifier under the drill role, on its schedule; the role may restore', async () => {
  const r = await synthStack('aws-prod');
  const task = named(r, 'lifeboat-prod-tasks-orders-pitr-drill');
  const [container] = JSON.parse(task.inputs.containerDefinitions as string) as Array<{ command: string[]; secrets: Array<{ name: string }> }>;
  assert.deepEqual(container!.command, ['pitr', 'drill', '--rds', 'orders-pg', '--ago', '1h', '--storage', 's3://lifeboat-prod-backups-123456789012-eu-west-1']);
  assert.deepEqual(container!.secrets.map((s) => s.name), ['DATABASE_URL']);
  assert.ok(task.dependencies.includes(named(r, 'lifeboat-prod-runner-drill').urn), 'runs as the drill role');
  assert.equal(named(r, 'lifeboat-prod-schedules-orders-pitr-drill').inputs.scheduleExpression, 'cron(0 5 * * ? *)');
  const policy = JSON.parse(named(r, 'lifeboat-prod-pitr-drill-access-rds').inputs.policy as string) as { Statement: Array<{ Sid: string; Resource: string[] }> };
  assert.deepEqual(policy.Statement.find((s) => s.Sid === 'NeverTheSources')!.Resource, [
    'arn:aws:rds:eu-west-1:123456789012:db:orders-pg',
    'arn:aws:rds:eu-west-1:123456789012:db:billing-pg',
  ]);
  const missing = named(r, 'lifeboat-prod-pitr-alarms-orders-pitr-drill-missing');
  assert.equal(missing.inputs.evaluationPeriods, 30, 'a daily drill plus 6 hours of slack');
});

test('prod (GCP): the Cloud SQL PITR drill job, its schedule, the clone/cleanup roles for the restore identity, the alerts', async () => {
  const r = await synthStack('prod');
  const job = named(r, 'jobs-orders-pitr-drill');
  const container = (job.inputs as { template: { template: { serviceAccount: string; containers: Array<{ args: string[]; envs: Array<{ name: string }> }> } } }).template.template;
  assert.deepEqual(container.containers[0]!.args, ['pitr', 'drill', '--cloudsql', 'acme-prod:orders-pg', '--ago', '1h', '--storage', 'gs://acme-prod-lifeboat-prod-backups']);
  assert.deepEqual(container.containers[0]!.envs.map((e) => e.name).sort(), ['DATABASE_URL', 'LIFEBOAT_SOURCE'], 'no age identity: the PITR drill decrypts nothing');
  assert.match(container.serviceAccount, /restore/);
  assert.equal(named(r, 'schedules-orders-pitr-drill').inputs.schedule, '0 5 * * *');
  assert.equal(named(r, 'schedules-orders-pitr-heartbeat').inputs.schedule, '*/5 * * * *');
  const clone = named(r, 'pitr-drill-access-clone-member');
  assert.match((clone.inputs.condition as { expression: string }).expression, /projects\/acme-prod\/instances\/orders-pg/);
  assert.match((clone.inputs.condition as { expression: string }).expression, /projects\/acme-prod\/instances\/billing-pg/);
  assert.equal(named(r, 'pitr-alerts-orders-drill-missing').inputs.combiner, 'OR');
});

test('k8s-prod: the PITR drill CronJob from the PITR image with its config Secret; heartbeat and archiving check from the runner image', async () => {
  const r = await synthStack('k8s-prod');
  const pod = (name: string) => (named(r, name).inputs as { spec: { jobTemplate: { spec: { template: { spec: { containers: Array<{ image: string; args: string[] }>; volumes: Array<{ secret?: { secretName: string } }> } } } } } }).spec.jobTemplate.spec.template.spec;
  const drill = pod('lifeboat-k8s-pitr-drills-orders-pitr-drill');
  assert.match(drill.containers[0]!.image, /lifeboat-pitr-16@sha256:/);
  assert.deepEqual(drill.containers[0]!.args, ['pitr', 'drill', '--ago', '1h', '--rpo', '15m', '--rto', '1h']);
  assert.equal(drill.volumes.find((v) => v.secret)!.secret!.secretName, 'lifeboat-k8s-orders-pitr-config');
  assert.deepEqual(pod('lifeboat-k8s-cronjobs-orders-pitr-archiving').containers[0]!.args, ['status', '--max-archive-lag', '15m']);
  assert.deepEqual(pod('lifeboat-k8s-cronjobs-orders-pitr-heartbeat').containers[0]!.args, ['pitr', 'heartbeat']);
  assert.deepEqual(r.outputs.pitrBesideDatabase, {
    orders: ['0 1 * * 0 lifeboat pitr backup --type full --source orders', '0 1 * * 1-6 lifeboat pitr backup --type diff --source orders'],
  });
});

for (const stack of ['prod', 'aws-prod', 'k8s-prod']) {
  test(`${stack} without lifeboat:pitr builds no PITR resource and fails stack-pitr-drill`, async () => {
    const r = await synthStack(stack, { config: { 'lifeboat:pitr': { enabled: false } } });
    assert.deepEqual(r.resources.filter((x) => /pitr/i.test(x.name)).map((x) => x.name), []);
    const violations = (await runPolicies(r.resources)).filter((v) => v.policyName === 'stack-pitr-drill');
    assert.ok(violations.length > 0, 'a production stack without PITR drills is refused');
    assert.ok(violations.every((v) => /has no point-in-time recovery drill/.test(v.message)), JSON.stringify(violations));
  });
}

test('aws-prod with a self-hosted database: heartbeat and archiving check as tasks, the archiving alarm, no drill task for it', async () => {
  const r = await synthStack('aws-prod', {
    config: {
      'lifeboat:databases': [
        { name: 'orders', instance: { mode: 'adopt', name: 'orders-pg' } },
        { name: 'shop' },
      ],
    },
  });
  const tasks = r.resources.filter((x) => x.type === 'aws:ecs/taskDefinition:TaskDefinition' && /pitr/.test(x.name)).map((x) => x.name).sort();
  assert.deepEqual(tasks, [
    'lifeboat-prod-tasks-orders-pitr-drill',
    'lifeboat-prod-tasks-orders-pitr-heartbeat',
    'lifeboat-prod-tasks-shop-pitr-archiving',
    'lifeboat-prod-tasks-shop-pitr-heartbeat',
  ]);
  const [container] = JSON.parse(named(r, 'lifeboat-prod-tasks-shop-pitr-archiving').inputs.containerDefinitions as string) as Array<{ command: string[]; secrets: Array<{ name: string }> }>;
  assert.deepEqual(container!.command, ['status', '--max-archive-lag', '15m']);
  assert.deepEqual(container!.secrets.map((s) => s.name), ['LIFEBOAT_ARCHIVING_URL']);
  assert.equal(named(r, 'lifeboat-prod-pitr-alarms-pitr-archiving').inputs.metricName, 'PitrArchivingUnhealthy');
  // Its drill runs on its host, which the stack cannot see: the policy asks for a waiver saying so.
  const violations = (await runPolicies(r.resources)).filter((v) => v.policyName === 'stack-pitr-drill');
  assert.equal(violations.length, 1, JSON.stringify(violations));
  assert.match(violations[0]!.message, /database shop has no point-in-time recovery drill/);
});
