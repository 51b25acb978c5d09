// Pure PITR builders, as tables: the tasks per database kind, the drill's RDS policy, the Cloud SQL roles and
// conditions, the alarm and alert specs, and the Kubernetes drill CronJob (validated against the CronJob schema).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { resolvePitr, type PitrConfig } from '../../../infra/config/pitr';
import { pitrDrillArgs, pitrTasks, PITR_CONFIG_DIR, type PitrDatabaseInput } from '../../../infra/shared/pitrTasks';
import { pitrDrillPolicy, PITR_DRILL_TAG } from '../../../infra/aws/pitrIam';
import { DRILL_LABEL } from '../../../runner/pitr/managed';
import { missingDrillWindow, pitrAlarmSpecs, pitrMetricFilterSpecs } from '../../../infra/aws/pitrAlarmRules';
import { CLOUD_SQL_VIEWER, pitrDrillRoles, roleIdPrefix } from '../../../infra/gcp/pitrIam';
import { missingDrillQuery, promqlLogMetric } from '../../../infra/gcp/pitrAlertRules';
import { pitrJobSpecs, pitrScheduleOf } from '../../../infra/gcp/pitrJobs';
import { copyConfigScript, pitrDrillCronJobManifest } from '../../../infra/k8s/pitrDrillSpec';
import { pitrPrometheusRules } from '../../../infra/k8s/pitrPrometheusRules';
import { failedAlertKind } from '../../../infra/k8s/prometheusRules';
import { EVENTS } from '../../../runner/contract/events';
import type { DatabaseConfig } from '../../../infra/config/common';
import type { RunnerTask } from '../../../infra/shared/taskPlan';

const DEFAULTS = {
  enabled: true,
  fullCron: '0 1 * * 0',
  diffCron: '0 1 * * 1-6',
  heartbeatEvery: '5m',
  archivingCheckEvery: '10m',
  drillCron: '0 5 * * *',
  drillAgo: '1h',
  drillSlack: '6h',
  rpo: '15m',
  rto: '1h',
};
const DBS: PitrDatabaseInput[] = [
  { name: 'orders', target: { kind: 'rds', identifier: 'orders-pg' }, secrets: { databaseUrl: 'orders-url' } },
  { name: 'sql', target: { kind: 'cloudsql', connection: 'acme-prod:sql-pg' }, secrets: { databaseUrl: 'sql-url' } },
  { name: 'shop', target: { kind: 'self-hosted' }, secrets: { databaseUrl: 'shop-url' } },
];
const pitrOf = (over: Partial<typeof DEFAULTS> & { databases?: string[] } = {}): PitrConfig => resolvePitr({ ...DEFAULTS, ...over }, DBS);
const tasks = (selfHostedDrill: boolean, over = {}) =>
  pitrTasks({ storageUrl: 's3://vault/root', pitr: pitrOf(over), databases: DBS, drillTimeoutSeconds: 14_400, selfHostedDrill });
const row = (t: RunnerTask) => [t.id, t.identity, t.schedule, t.args.join(' '), Object.keys(t.secretEnv).join(',')];

test('pitrTasks: off builds nothing', () => {
  assert.deepEqual(pitrTasks({ storageUrl: 's3://v', pitr: resolvePitr({ ...DEFAULTS, enabled: false }, DBS), databases: DBS, drillTimeoutSeconds: 1, selfHostedDrill: true }), []);
});

test('pitrTasks: managed drills by API; a self-hosted database gets heartbeats and the archiving check, and its drill only where it runs', () => {
  assert.deepEqual(tasks(false).map(row), [
    ['orders-pitr-heartbeat', 'backup', '*/5 * * * *', 'pitr heartbeat', 'DATABASE_URL'],
    ['orders-pitr-drill', 'drill', '0 5 * * *', 'pitr drill --rds orders-pg --ago 1h --storage s3://vault/root', 'DATABASE_URL'],
    ['sql-pitr-heartbeat', 'backup', '*/5 * * * *', 'pitr heartbeat', 'DATABASE_URL'],
    ['sql-pitr-drill', 'drill', '0 5 * * *', 'pitr drill --cloudsql acme-prod:sql-pg --ago 1h --storage s3://vault/root', 'DATABASE_URL'],
    ['shop-pitr-heartbeat', 'backup', '*/5 * * * *', 'pitr heartbeat', 'DATABASE_URL'],
    ['shop-pitr-archiving', 'drill', '*/10 * * * *', 'status --max-archive-lag 15m', 'LIFEBOAT_ARCHIVING_URL'],
  ]);
  const selfHosted = tasks(true).find((t) => t.id === 'shop-pitr-drill')!;
  assert.deepEqual(row(selfHosted), ['shop-pitr-drill', 'drill', '0 5 * * *', 'pitr drill --ago 1h --rpo 15m --rto 1h', 'DATABASE_URL']);
  assert.equal(selfHosted.env.LIFEBOAT_PITR_CONFIG_DIR, PITR_CONFIG_DIR);
  assert.equal(selfHosted.env.LIFEBOAT_SOURCE, 'shop');
  assert.equal(selfHosted.timeoutSeconds, 14_400);
});

test('pitrTasks: the archiving check reads no backup storage and times out at its interval; secrets only by reference', () => {
  const archiving = tasks(false).find((t) => t.kind === 'pitr-archiving')!;
  assert.equal(archiving.env.LIFEBOAT_STORAGE, undefined);
  assert.equal(archiving.timeoutSeconds, 600);
  for (const t of tasks(true)) {
    for (const v of Object.values(t.env)) assert.doesNotMatch(v, /:\/\/[^/]*@/, `${t.id}: no credentials in plain env`);
  }
});

test('pitrTasks: only the databases listed', () => {
  assert.deepEqual(tasks(true, { databases: ['orders'] }).map((t) => t.id), ['orders-pitr-heartbeat', 'orders-pitr-drill']);
});

test('pitrDrillArgs: the colleague-facing interface, exactly', () => {
  const p = pitrOf({ drillAgo: '2h' });
  assert.deepEqual(pitrDrillArgs({ kind: 'rds', identifier: 'db1' }, p, 's3://b'), ['pitr', 'drill', '--rds', 'db1', '--ago', '2h', '--storage', 's3://b']);
  assert.deepEqual(pitrDrillArgs({ kind: 'cloudsql', connection: 'p:i' }, p, 'gs://b/r'), ['pitr', 'drill', '--cloudsql', 'p:i', '--ago', '2h', '--storage', 'gs://b/r']);
});

test('pitrDrillPolicy: restore and describe; tag clones; delete only tagged clones; the sources fenced off by an explicit Deny; no PassRole', () => {
  const doc = pitrDrillPolicy({ region: 'eu-west-1', accountId: '123456789012', sourceIdentifiers: ['orders-pg', 'billing-pg'] });
  const by = Object.fromEntries(doc.Statement.map((s) => [s.Sid, s]));
  const arn = (x: string) => `arn:aws:rds:eu-west-1:123456789012:${x}`;
  assert.deepEqual(by.RestoreToPointInTime!.Action, ['rds:RestoreDBInstanceToPointInTime']);
  assert.deepEqual(by.RestoreToPointInTime!.Resource, [arn('db:orders-pg'), arn('db:billing-pg'), arn('db:*'), arn('subgrp:*'), arn('og:*'), arn('pg:*')]);
  // The runner tags its clones lifeboat-drill=<source>: the tag's presence is what counts.
  assert.equal(PITR_DRILL_TAG.key, DRILL_LABEL);
  assert.deepEqual(by.TagClonesAtRestore!.Condition, { StringLike: { [`aws:RequestTag/${PITR_DRILL_TAG.key}`]: '*' } });
  assert.deepEqual(by.DeleteOwnClones!.Condition, { StringLike: { [`rds:db-tag/${PITR_DRILL_TAG.key}`]: '*' } });
  assert.deepEqual(by.DeleteOwnClones!.Action, ['rds:DeleteDBInstance', 'rds:ModifyDBInstance']);
  assert.equal(by.NeverTheSources!.Effect, 'Deny');
  assert.deepEqual(by.NeverTheSources!.Resource, [arn('db:orders-pg'), arn('db:billing-pg')]);
  assert.ok((by.NeverTheSources!.Action as string[]).includes('rds:DeleteDBInstance'));
  const actions = doc.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => s.Action);
  assert.ok(!actions.some((a) => a.includes('*') || a.startsWith('iam:')), JSON.stringify(actions));
  assert.throws(() => pitrDrillPolicy({ region: 'eu-west-1', accountId: '123456789012', sourceIdentifiers: [] }), /sourceIdentifiers: expected at least one instance/);
});

test('pitrAlarmSpecs: failed and missing per drilled source, heartbeat failures, archiving stack-wide; metric filters on the contract events', () => {
  const specs = pitrAlarmSpecs(
    [{ source: 'orders', drillWindowSeconds: 30 * 3600, drills: true }, { source: 'shop', drillWindowSeconds: 30 * 3600, drills: false }],
    '/lifeboat/x/runner',
    { archiving: true },
  );
  assert.deepEqual(
    specs.map((s) => [s.condition, s.source ?? '*', s.period, s.evaluationPeriods, s.comparisonOperator, s.treatMissingData]),
    [
      ['pitr-heartbeat-failed', 'orders', 300, 1, 'GreaterThanOrEqualToThreshold', 'notBreaching'],
      ['pitr-drill-failed', 'orders', 300, 1, 'GreaterThanOrEqualToThreshold', 'notBreaching'],
      ['pitr-drill-missing', 'orders', 3600, 30, 'LessThanThreshold', 'breaching'],
      ['pitr-heartbeat-failed', 'shop', 300, 1, 'GreaterThanOrEqualToThreshold', 'notBreaching'],
      ['pitr-archiving', '*', 300, 1, 'GreaterThanOrEqualToThreshold', 'notBreaching'],
    ],
  );
  assert.deepEqual(
    pitrMetricFilterSpecs().map((f) => [f.metric, f.pattern, f.bySource]),
    [
      ['drillFailed', `{ ($.event = "${EVENTS.pitrDrillFailed}") }`, true],
      ['drillSucceeded', `{ ($.event = "${EVENTS.pitrDrillSucceeded}") }`, true],
      ['heartbeatFailed', `{ ($.event = "${EVENTS.pitrHeartbeatFailed}") }`, true],
      ['archivingUnhealthy', `{ ($.event = "${EVENTS.statusUnhealthy}") }`, false],
    ],
  );
});

const WINDOWS: Array<[number, number | RegExp]> = [[3600, 1], [30 * 3600 - 1, 30], [7 * 86_400, 168], [7 * 86_400 + 1, /at most 7 days/], [0, /1 hour to 7 days/]];
for (const [seconds, expected] of WINDOWS) {
  test(`missingDrillWindow(${seconds})`, () => {
    if (typeof expected === 'number') assert.deepEqual(missingDrillWindow(seconds), { period: 3600, evaluationPeriods: expected });
    else assert.throws(() => missingDrillWindow(seconds), expected);
  });
}

test('pitrDrillRoles: clone only the sources, delete anything but them, viewer to read; role ids valid', () => {
  const roles = pitrDrillRoles({ project: 'acme-prod', prefix: 'lifeboat-prod', sourceInstances: ['orders-pg', 'billing-pg'] });
  const src = "resource.name == 'projects/acme-prod/instances/orders-pg' || resource.name == 'projects/acme-prod/instances/billing-pg'";
  const type = "resource.type == 'sqladmin.googleapis.com/Instance'";
  assert.deepEqual(
    roles.map((r) => [r.roleId, r.permissions, r.condition.expression]),
    [
      ['lifeboat_prod_pitr_clone', ['cloudsql.instances.clone'], `${type} && (${src})`],
      ['lifeboat_prod_pitr_cleanup', ['cloudsql.instances.delete'], `${type} && !(${src})`],
    ],
  );
  for (const r of roles) assert.match(r.roleId, /^[a-zA-Z0-9_.]{3,64}$/);
  assert.equal(roleIdPrefix('lifeboat-pr-1a2b3c'), 'lifeboat_pr_1a2b3c');
  assert.equal(CLOUD_SQL_VIEWER, 'roles/cloudsql.viewer');
  assert.throws(() => pitrDrillRoles({ project: 'p', prefix: 'x', sourceInstances: [] }), /sourceInstances/);
});

test('GCP missing-drill PromQL: the log-based metric under its PromQL name, the success event, the source, the window', () => {
  assert.equal(promqlLogMetric('lifeboat-prod-pitr-events'), 'logging_googleapis_com:user_lifeboat_prod_pitr_events');
  assert.equal(
    missingDrillQuery('lifeboat-prod', 'orders', 108_000),
    'absent_over_time(logging_googleapis_com:user_lifeboat_prod_pitr_events{monitored_resource="cloud_run_job", event="pitr.drill.succeeded", source="orders"}[108000s])',
  );
});

test('GCP pitrJobSpecs: drill under the restore identity by API, heartbeat through the Cloud SQL socket; schedules', () => {
  const db = { name: 'orders', instance: { mode: 'adopt', name: 'orders-pg' }, secrets: { databaseUrl: 'orders-url', scratchUrl: 's' } } as unknown as DatabaseConfig;
  const p = resolvePitr(DEFAULTS, [{ name: 'orders' }]);
  const specs = pitrJobSpecs(db, 'acme-prod', p, 'gs://vault');
  assert.deepEqual(
    specs.map((s) => [s.task, s.identity, s.cloudSql, s.args.join(' '), s.secretEnv.DATABASE_URL, pitrScheduleOf(s.task, p)]),
    [
      ['pitr-drill', 'restore', false, 'pitr drill --cloudsql acme-prod:orders-pg --ago 1h --storage gs://vault', 'orders-url', '0 5 * * *'],
      ['pitr-heartbeat', 'backup', true, 'pitr heartbeat', 'orders-url', '*/5 * * * *'],
    ],
  );
  assert.equal(pitrScheduleOf('backup', p), undefined);
  assert.deepEqual(pitrJobSpecs({ ...db, instance: undefined } as DatabaseConfig, 'acme-prod', p, 'gs://vault'), []);
});

const CRON_OPTIONS = {
  namespace: 'lifeboat',
  image: 'runner:1',
  drillImage: 'registry/lifeboat-pitr-16@sha256:' + '1'.repeat(64),
  configSecret: 'lifeboat-shop-pitr-config',
  timeZone: 'Etc/UTC',
  serviceAccounts: { backup: 'lifeboat-backup', drill: 'lifeboat-drill' },
  secretKey: 'value',
  resources: { cpuRequest: '500m', memoryRequest: '1Gi', memoryLimit: '2Gi' },
  scratchSize: '20Gi',
  startingDeadlineSeconds: 1800,
  backoffLimit: 1,
  ttlSecondsAfterFinished: 86_400,
};

test('Kubernetes PITR drill CronJob: its image, the config Secret copied to an emptyDir by a hardened init container; a valid CronJob', () => {
  const drill = tasks(true).find((t) => t.id === 'shop-pitr-drill')!;
  const m = pitrDrillCronJobManifest(drill, CRON_OPTIONS);
  assert.doesNotThrow(() => new CronJob(m as never).validate());
  const pod = m.spec.jobTemplate.spec.template.spec as unknown as {
    serviceAccountName: string;
    initContainers: Array<{ image: string; command: string[]; securityContext: unknown; volumeMounts: unknown[] }>;
    containers: Array<{ image: string; args: string[]; volumeMounts: Array<{ name: string; mountPath: string }>; securityContext: unknown }>;
    volumes: Array<{ name: string; secret?: { secretName: string; defaultMode: number }; emptyDir?: unknown }>;
  };
  assert.equal(pod.serviceAccountName, 'lifeboat-drill');
  assert.equal(pod.containers[0]!.image, CRON_OPTIONS.drillImage);
  assert.deepEqual(pod.containers[0]!.args, ['pitr', 'drill', '--ago', '1h', '--rpo', '15m', '--rto', '1h']);
  assert.deepEqual(pod.containers[0]!.volumeMounts.map((v) => `${v.name}:${v.mountPath}`), ['scratch:/tmp', `pitr-config:${PITR_CONFIG_DIR}`]);
  assert.deepEqual(pod.initContainers[0]!.securityContext, pod.containers[0]!.securityContext);
  assert.deepEqual(pod.initContainers[0]!.command.slice(0, 2), ['sh', '-c']);
  assert.deepEqual(pod.volumes.find((v) => v.secret)!.secret, { secretName: 'lifeboat-shop-pitr-config', defaultMode: 0o440 });
  assert.ok(pod.volumes.find((v) => v.name === 'pitr-config')!.emptyDir);
  assert.equal((m.metadata.labels as Record<string, string>)['lifeboat-task'], 'pitr-drill');
  assert.throws(() => pitrDrillCronJobManifest(tasks(true)[0]!, CRON_OPTIONS), /expected a pitr-drill task/);
});

test('the init container script lays the Secret out as pitr init did: secret-* keys in a 0700 secret/ folder, 0600 each', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'pitr-config-'));
  try {
    const from = path.join(root, 'from');
    mkdirSync(from);
    for (const [f, v] of [['pgbackrest.conf', '[shop]\n'], ['lifeboat.json', '{}'], ['secret-cipher.conf', 'repo1-cipher-pass=x\n']]) writeFileSync(path.join(from, f), v);
    const to = path.join(root, 'to');
    const script = copyConfigScript('shop').replaceAll('/pitr-config', from).replaceAll(PITR_CONFIG_DIR, to);
    execFileSync('sh', ['-c', script]);
    const dest = path.join(to, 'shop');
    assert.deepEqual(readdirSync(dest).sort(), ['lifeboat.json', 'pgbackrest.conf', 'secret']);
    assert.deepEqual(readdirSync(path.join(dest, 'secret')), ['cipher.conf']);
    assert.equal(statSync(path.join(dest, 'secret')).mode & 0o777, 0o700);
    assert.equal(statSync(path.join(dest, 'secret', 'cipher.conf')).mode & 0o777, 0o600);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('Kubernetes PITR alerts: failed kinds per task; missing drill and stale archiving check with their windows', () => {
  const all = tasks(true, { databases: ['shop'] });
  assert.deepEqual(all.map(failedAlertKind), ['pitr-heartbeat-failed', 'pitr-archiving-failed', 'pitr-drill-failed']);
  const rules = pitrPrometheusRules({ namespace: 'lifeboat', tasks: all, drillWindowSeconds: 108_000, archivingCheckSeconds: 600 });
  assert.deepEqual(
    rules.map((r) => [r.alert, r.labels['lifeboat-alert'], r.labels['lifeboat-source']]),
    [
      ['LifeboatShopPitrArchivingStale', 'pitr-archiving-stale', 'shop'],
      ['LifeboatShopPitrDrillMissing', 'pitr-drill-missing', 'shop'],
    ],
  );
  assert.match(rules[0]!.expr, /cronjob="lifeboat-shop-pitr-archiving"\}\) > 2400\)/);
  assert.match(rules[1]!.expr, /cronjob="lifeboat-shop-pitr-drill"\}\) > 108000\)/);
});
