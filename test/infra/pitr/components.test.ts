// The PITR components under Pulumi mocks: their raw inputs by type token, and their argument checks.
import { describe, it, before, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as pulumi from '@pulumi/pulumi';
import { createMocks } from '../../../infra/synth/mocks';
import { PitrDrillAccess as AwsPitrDrillAccess } from '../../../infra/aws/PitrDrillAccess';
import { PitrAlarms } from '../../../infra/aws/PitrAlarms';
import { PitrDrillAccess as GcpPitrDrillAccess } from '../../../infra/gcp/PitrDrillAccess';
import { PitrDrillAlerts } from '../../../infra/gcp/PitrDrillAlerts';
import { PitrDrillCronJobs } from '../../../infra/k8s/PitrDrillCronJobs';
import type { RunnerTask } from '../../../infra/shared/taskPlan';

interface Created {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
let created: Created[] = [];

before(async () => {
  const base = createMocks({ awsRegion: 'eu-west-1' });
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        created.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
        return base.newResource(args);
      },
      call: base.call,
    },
    'lifeboat',
    'pitr-components',
    false,
  );
});
afterEach(async () => {
  await settle();
  created = [];
});

async function settle(): Promise<void> {
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}
const ofType = (t: string) => created.filter((c) => c.type === t);

/** Constructing a component whose arguments are refused throws a ResourceError naming the argument. */
function refuses(build: () => unknown, message: RegExp): void {
  assert.throws(build, (e: unknown) => e instanceof pulumi.ResourceError && message.test(e.message));
}

describe('lifeboat:aws:PitrDrillAccess', () => {
  it('attaches the RDS policy to the role it is given', async () => {
    new AwsPitrDrillAccess('pitr', { region: 'eu-west-1', accountId: '123456789012', role: 'lifeboat-prod-runner-drill', sourceIdentifiers: ['orders-pg'] });
    await settle();
    const [policy] = ofType('aws:iam/rolePolicy:RolePolicy');
    assert.equal(policy!.name, 'pitr-rds');
    assert.equal(policy!.inputs.role, 'lifeboat-prod-runner-drill');
    const doc = JSON.parse(policy!.inputs.policy as string) as { Statement: Array<{ Sid: string; Effect: string; Resource: string[] }> };
    assert.deepEqual(doc.Statement.map((s) => `${s.Effect} ${s.Sid}`), [
      'Allow RestoreToPointInTime',
      'Allow TagClonesAtRestore',
      'Allow WatchInstances',
      'Allow DeleteOwnClones',
      'Deny NeverTheSources',
    ]);
    assert.deepEqual(doc.Statement[4]!.Resource, ['arn:aws:rds:eu-west-1:123456789012:db:orders-pg']);
  });
  it('refuses no instance to drill', () => {
    refuses(() => new AwsPitrDrillAccess('none', { region: 'eu-west-1', accountId: '123456789012', role: 'r', sourceIdentifiers: [] }), /none: pitrDrillPolicy: sourceIdentifiers: expected at least one instance/);
  });
});

describe('lifeboat:aws:PitrAlarms', () => {
  it('metric filters by source (archiving stack-wide) and alarms paging the topics, tagged for the policy pack', async () => {
    new PitrAlarms('pa', {
      region: 'eu-west-1',
      logGroupName: '/lifeboat/x/runner',
      logGroupDisplayName: '/lifeboat/x/runner',
      namespace: 'Lifeboat/x',
      sources: [{ source: 'orders', drillWindowSeconds: 30 * 3600, drills: true }],
      archiving: true,
      topicArns: ['arn:aws:sns:eu-west-1:123456789012:alerts'],
      tags: { 'lifeboat-environment': 'prod' },
    });
    await settle();
    const filters = ofType('aws:cloudwatch/logMetricFilter:LogMetricFilter');
    assert.deepEqual(
      filters
        .map((f) => [f.name, (f.inputs.metricTransformation as { name: string }).name, (f.inputs.metricTransformation as { dimensions?: Record<string, string> }).dimensions?.Source])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      [
        ['pa-pitr-archiving-unhealthy', 'PitrArchivingUnhealthy', undefined],
        ['pa-pitr-drill-failed', 'PitrDrillFailed', '$.source'],
        ['pa-pitr-drill-succeeded', 'PitrDrillSucceeded', '$.source'],
        ['pa-pitr-heartbeat-failed', 'PitrHeartbeatFailed', '$.source'],
      ],
    );
    const alarms = ofType('aws:cloudwatch/metricAlarm:MetricAlarm');
    const missing = alarms.find((a) => a.name === 'pa-orders-pitr-drill-missing')!;
    assert.deepEqual(
      [missing.inputs.metricName, missing.inputs.dimensions, missing.inputs.period, missing.inputs.evaluationPeriods, missing.inputs.datapointsToAlarm, missing.inputs.treatMissingData, missing.inputs.comparisonOperator],
      ['PitrDrillSucceeded', { Source: 'orders' }, 3600, 30, 30, 'breaching', 'LessThanThreshold'],
    );
    assert.deepEqual(missing.inputs.tags, { 'lifeboat-environment': 'prod', 'lifeboat-source': 'orders', 'lifeboat-alert': 'pitr-drill-missing' });
    const archiving = alarms.find((a) => a.name === 'pa-pitr-archiving')!;
    assert.equal(archiving.inputs.dimensions, undefined);
    for (const a of alarms) assert.deepEqual(a.inputs.alarmActions, ['arn:aws:sns:eu-west-1:123456789012:alerts']);
  });
  it('without archiving: no archiving filter or alarm', async () => {
    new PitrAlarms('pb', { region: 'eu-west-1', logGroupName: 'g', logGroupDisplayName: 'g', namespace: 'n', sources: [{ source: 'orders', drillWindowSeconds: 3600, drills: true }], topicArns: ['t'] });
    await settle();
    assert.ok(!created.some((c) => c.name.includes('archiving')));
  });
  it('refuses no sources, no topic, and a window CloudWatch cannot evaluate', () => {
    refuses(() => new PitrAlarms('p1', { region: 'r', logGroupName: 'g', logGroupDisplayName: 'g', namespace: 'n', sources: [], topicArns: ['t'] }), /p1: sources: expected at least one/);
    refuses(() => new PitrAlarms('p2', { region: 'r', logGroupName: 'g', logGroupDisplayName: 'g', namespace: 'n', sources: [{ source: 'a', drillWindowSeconds: 3600, drills: true }], topicArns: [] }), /p2: topicArns: expected the alert topic/);
    refuses(
      () => new PitrAlarms('p3', { region: 'r', logGroupName: 'g', logGroupDisplayName: 'g', namespace: 'n', sources: [{ source: 'a', drillWindowSeconds: 8 * 86_400, drills: true }], topicArns: ['t'] }),
      /p3: PITR drill window: expected 1 hour to 7 days/,
    );
  });
});

describe('lifeboat:gcp:PitrDrillAccess', () => {
  it('two custom roles bound with their conditions, and the viewer role', async () => {
    new GcpPitrDrillAccess('pda', { project: 'acme-prod', prefix: 'lifeboat-prod', serviceAccountEmail: 'lifeboat-prod-restore@acme-prod.iam.gserviceaccount.com', sourceInstances: ['orders-pg'] });
    await settle();
    const roles = ofType('gcp:projects/iAMCustomRole:IAMCustomRole');
    assert.deepEqual(roles.map((r) => [r.name, r.inputs.roleId, r.inputs.permissions]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))), [
      ['pda-cleanup', 'lifeboat_prod_pitr_cleanup', ['cloudsql.instances.delete']],
      ['pda-clone', 'lifeboat_prod_pitr_clone', ['cloudsql.instances.clone']],
    ]);
    const members = ofType('gcp:projects/iAMMember:IAMMember');
    for (const m of members) assert.equal(m.inputs.member, 'serviceAccount:lifeboat-prod-restore@acme-prod.iam.gserviceaccount.com');
    const cleanup = members.find((m) => m.name === 'pda-cleanup-member')!;
    assert.equal(
      (cleanup.inputs.condition as { expression: string }).expression,
      "resource.type == 'sqladmin.googleapis.com/Instance' && !(resource.name == 'projects/acme-prod/instances/orders-pg')",
    );
    assert.equal(members.find((m) => m.name === 'pda-viewer')!.inputs.role, 'roles/cloudsql.viewer');
    assert.equal(members.find((m) => m.name === 'pda-viewer')!.inputs.condition, undefined);
  });
  it('refuses no instance', () => {
    refuses(() => new GcpPitrDrillAccess('pdb', { project: 'p', prefix: 'x', serviceAccountEmail: 'e', sourceInstances: [] }), /pdb: pitrDrillRoles: sourceInstances/);
  });
});

describe('lifeboat:gcp:PitrDrillAlerts', () => {
  it('a log metric on the PITR events, failed alerts on it, and a PromQL missing-drill alert per source', async () => {
    new PitrDrillAlerts('pal', { project: 'acme-prod', region: 'europe-west1', prefix: 'lifeboat-prod', sources: ['orders'], drillWindowSeconds: 30 * 3600, channels: ['projects/acme-prod/notificationChannels/1'] });
    await settle();
    const [metric] = ofType('gcp:logging/metric:Metric');
    assert.equal(metric!.inputs.name, 'lifeboat-prod-pitr-events');
    assert.match(metric!.inputs.filter as string, /job_name=~"\^lifeboat-prod-\(orders\)-\[a-z-\]\+\$"/);
    const policies = ofType('gcp:monitoring/alertPolicy:AlertPolicy');
    assert.deepEqual(policies.map((p) => (p.inputs.userLabels as Record<string, string>)['lifeboat-alert']).sort(), ['pitr-drill-failed', 'pitr-drill-missing', 'pitr-heartbeat-failed']);
    const missing = policies.find((p) => p.name === 'pal-orders-drill-missing')!;
    const condition = (missing.inputs.conditions as Array<{ conditionPrometheusQueryLanguage: { query: string; disableMetricValidation: boolean } }>)[0]!;
    assert.match(condition.conditionPrometheusQueryLanguage.query, /^absent_over_time\(logging_googleapis_com:user_lifeboat_prod_pitr_events\{.*source="orders"\}\[108000s\]\)$/);
    assert.equal(condition.conditionPrometheusQueryLanguage.disableMetricValidation, true);
    assert.equal((missing.inputs.userLabels as Record<string, string>)['lifeboat-source'], 'orders');
    for (const p of policies) {
      assert.deepEqual(p.inputs.notificationChannels, ['projects/acme-prod/notificationChannels/1']);
      assert.match((p.inputs.documentation as { content: string }).content, /gcloud/);
    }
  });
  it('refuses no sources and a window under an hour', () => {
    refuses(() => new PitrDrillAlerts('pa1', { project: 'p', region: 'r', prefix: 'x', sources: [], drillWindowSeconds: 3600, channels: [] }), /pa1: sources: expected at least one/);
    refuses(() => new PitrDrillAlerts('pa2', { project: 'p', region: 'r', prefix: 'x', sources: ['a'], drillWindowSeconds: 60, channels: [] }), /pa2: drillWindowSeconds: expected at least 3600, got 60/);
  });
});

const drillTask: RunnerTask = {
  id: 'shop-pitr-drill',
  kind: 'pitr-drill',
  source: 'shop',
  engine: 'postgres',
  identity: 'drill',
  schedule: '0 5 * * *',
  args: ['pitr', 'drill', '--ago', '1h'],
  env: { LIFEBOAT_SOURCE: 'shop' },
  secretEnv: { DATABASE_URL: 'shop-url' },
  timeoutSeconds: 3600,
};

describe('lifeboat:k8s:PitrDrillCronJobs', () => {
  it('one CronJob per drill, in the namespace, with the drill image and the config Secret', async () => {
    new PitrDrillCronJobs('pd', { namespace: 'lifeboat', tasks: [drillTask], drillImage: 'reg/pitr:16', configSecrets: { shop: 'shop-pitr' }, timeZone: 'Etc/UTC', serviceAccounts: { backup: 'b', drill: 'd' } });
    await settle();
    const [cj] = ofType('kubernetes:batch/v1:CronJob');
    assert.equal(cj!.name, 'pd-shop-pitr-drill');
    const spec = cj!.inputs.spec as { schedule: string; jobTemplate: { spec: { template: { spec: { containers: Array<{ image: string; env: Array<{ name: string; valueFrom?: unknown }> }>; volumes: Array<{ secret?: { secretName: string } }> } } } } };
    assert.equal((cj!.inputs.metadata as { namespace: string }).namespace, 'lifeboat');
    assert.equal(spec.schedule, '0 5 * * *');
    const pod = spec.jobTemplate.spec.template.spec;
    assert.equal(pod.containers[0]!.image, 'reg/pitr:16');
    assert.deepEqual(pod.containers[0]!.env.find((e) => e.name === 'DATABASE_URL')!.valueFrom, { secretKeyRef: { name: 'shop-url', key: 'value' } });
    assert.equal(pod.volumes.find((v) => v.secret)!.secret!.secretName, 'shop-pitr');
  });
  it('refuses no image, and a drill without its config Secret', () => {
    refuses(() => new PitrDrillCronJobs('k1', { namespace: 'n', tasks: [drillTask], drillImage: '', configSecrets: {}, timeZone: 'Etc/UTC', serviceAccounts: { backup: 'b', drill: 'd' } }), /k1: drillImage: expected an image/);
    refuses(() => new PitrDrillCronJobs('k2', { namespace: 'n', tasks: [drillTask], drillImage: 'i', configSecrets: {}, timeZone: 'Etc/UTC', serviceAccounts: { backup: 'b', drill: 'd' } }), /k2: configSecrets: expected the Secret of shop's/);
  });
});
