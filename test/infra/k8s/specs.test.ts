// The CronJob manifests and PrometheusRule expressions, validated against the Kubernetes schemas.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { runnerTasks } from '../../../infra/shared/taskPlan';
import { cronJobManifest, SECRET_ENV_NAMES, type CronJobOptions } from '../../../infra/k8s/cronJobSpec';
import { backupStaleExpr, jobFailedExpr, prometheusAlertRules } from '../../../infra/k8s/prometheusRules';
import { parsePromql } from '../../harness/promql';

/**
 * kube-state-metrics series the alerts may use, with the labels each carries (kube-state-metrics docs: job-metrics.md,
 * cronjob-metrics.md). An expression on any other series or label would never match anything.
 */
const KSM_SERIES: Record<string, readonly string[]> = {
  kube_job_failed: ['namespace', 'job_name', 'condition', 'reason'],
  kube_cronjob_status_last_successful_time: ['namespace', 'cronjob'],
  kube_cronjob_created: ['namespace', 'cronjob'],
};


const tasks = runnerTasks({
  storageUrl: 's3://b/prod',
  ageRecipients: [],
  backupTimeoutSeconds: 7200,
  drillTimeoutSeconds: 14400,
  databases: [
    {
      name: 'main',
      schedule: '30 2 * * *',
      drillSchedule: '0 6 * * 1',
      rpo: '26h',
      rto: '1h',
      amcheck: false,
      secrets: { databaseUrl: 'lifeboat-main-database-url', scratchUrl: 'lifeboat-main-scratch-url' },
    },
  ],
  redis: [{ name: 'cache', urlSecret: 'lifeboat-cache-redis-url', schedule: '15 3 * * *', method: 'rdb' }],
});

const options: CronJobOptions = {
  namespace: 'lifeboat-prod',
  image: 'ghcr.io/example/lifeboat@sha256:' + 'a'.repeat(64),
  timeZone: 'Europe/Paris',
  serviceAccounts: { backup: 'lifeboat-backup', drill: 'lifeboat-drill' },
  secretKey: 'value',
  resources: { cpuRequest: '500m', memoryRequest: '1Gi', memoryLimit: '2Gi' },
  scratchSize: '20Gi',
  startingDeadlineSeconds: 1800,
  backoffLimit: 1,
  ttlSecondsAfterFinished: 86400,
};

describe('cronJobManifest', () => {
  for (const task of tasks) {
    it(`${task.id}: valid against the batch/v1 schema, hardened`, () => {
      const m = cronJobManifest(task, options);
      new CronJob(m as never).validate();
      const spec = m.spec;
      assert.equal(spec.concurrencyPolicy, 'Forbid');
      assert.equal(spec.timeZone, 'Europe/Paris');
      assert.equal(spec.schedule, task.schedule);
      assert.equal(spec.startingDeadlineSeconds, 1800);
      const job = spec.jobTemplate.spec;
      assert.equal(job.backoffLimit, 1);
      assert.equal(job.activeDeadlineSeconds, task.timeoutSeconds);
      assert.equal(job.ttlSecondsAfterFinished, 86400);
      const pod = job.template.spec;
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.equal(pod.serviceAccountName, task.identity === 'backup' ? 'lifeboat-backup' : 'lifeboat-drill');
      const c = pod.containers[0]!;
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      assert.deepEqual(c.volumeMounts, [{ name: 'scratch', mountPath: '/tmp' }]);
      assert.deepEqual(pod.volumes, [{ name: 'scratch', emptyDir: { sizeLimit: '20Gi' } }]);
      assert.equal(c.resources.requests.memory, '1Gi');
      assert.equal(c.resources.limits.memory, '2Gi');
      assert.deepEqual(c.args, task.args);
      for (const [envName, secret] of Object.entries(task.secretEnv)) {
        const e = c.env.find((x) => x.name === envName)!;
        assert.deepEqual(e, { name: envName, valueFrom: { secretKeyRef: { name: secret, key: 'value' } } });
      }
    });
  }
  it('the schema validation can fail: a bad concurrency policy and a bad quantity are refused', () => {
    const m = cronJobManifest(tasks[0]!, options);
    assert.throws(() => new CronJob({ ...m, spec: { ...m.spec, concurrencyPolicy: 'Sometimes' } } as never).validate());
    assert.throws(() => new CronJob(cronJobManifest(tasks[0]!, { ...options, scratchSize: 'twenty gigs' }) as never).validate());
  });
  it('never carries a secret variable as a plain value', () => {
    for (const task of tasks) {
      const env = cronJobManifest(task, options).spec.jobTemplate.spec.template.spec.containers[0]!.env;
      for (const e of env) if (SECRET_ENV_NAMES.includes(e.name)) assert.ok('valueFrom' in e && !('value' in e), `${task.id}: ${e.name}`);
    }
  });
  it('refuses a name longer than Kubernetes allows', () => {
    const long = { ...tasks[0]!, id: 'x'.repeat(50) };
    assert.throws(() => cronJobManifest(long, options), /characters; Kubernetes allows 52/);
  });
  it('adds envFrom only when storage credentials are given', () => {
    assert.equal('envFrom' in cronJobManifest(tasks[0]!, options).spec.jobTemplate.spec.template.spec.containers[0]!, false);
    const c = cronJobManifest(tasks[0]!, { ...options, envFromSecret: 'minio' }).spec.jobTemplate.spec.template.spec.containers[0]!;
    assert.deepEqual((c as { envFrom?: unknown }).envFrom, [{ secretRef: { name: 'minio' } }]);
  });
});

describe('prometheusAlertRules', () => {
  it('a failure alert per CronJob and a staleness alert per backup CronJob', () => {
    const rules = prometheusAlertRules({ namespace: 'lb', tasks, maxAgeSeconds: { main: 93600, cache: 93600 } });
    assert.deepEqual(rules.map((r) => r.alert), [
      'LifeboatMainBackupFailed',
      'LifeboatMainBackupStale',
      'LifeboatMainDrillFailed',
      'LifeboatCacheRedisBackupFailed',
      'LifeboatCacheRedisBackupStale',
    ]);
    assert.match(rules[0]!.annotations.description, /create job --from=cronjob\/lifeboat-main-backup/);
  });
  it('expressions select the CronJob and its failed Jobs exactly (the Failed condition, not failed pods)', () => {
    assert.equal(
      jobFailedExpr('lb', 'lifeboat-main-backup'),
      'sum by (namespace, job_name) (kube_job_failed{namespace="lb", job_name=~"lifeboat-main-backup-[0-9]+", condition="true"}) > 0',
    );
    const stale = backupStaleExpr('lb', 'lifeboat-main-backup', 93600);
    assert.match(stale, /^\(time\(\) - max\(kube_cronjob_status_last_successful_time\{namespace="lb", cronjob="lifeboat-main-backup"\}\) > 93600\)/);
    assert.match(stale, /absent\(kube_cronjob_status_last_successful_time/);
    assert.match(stale, /kube_cronjob_created\{namespace="lb", cronjob="lifeboat-main-backup"\}\) > 93600/);
  });
});

describe('PrometheusRule expressions', () => {
  const rules = prometheusAlertRules({ namespace: 'lifeboat-prod', tasks, maxAgeSeconds: { main: 93600, cache: 93600 } });
  for (const r of rules) {
    it(`${r.alert}: valid PromQL over kube-state-metrics series and labels that exist`, () => {
      const { errors, selectors } = parsePromql(r.expr);
      assert.deepEqual(errors, [], r.expr);
      assert.ok(selectors.length > 0);
      for (const s of selectors) {
        const known = KSM_SERIES[s.metric];
        assert.ok(known, `${s.metric} is not a kube-state-metrics series this module knows`);
        for (const l of s.labels) assert.ok(known.includes(l), `${s.metric} has no label ${l}`);
      }
      assert.match(r.for, /^\d+[smh]$/);
    });
  }
  it('the parser can fail: broken expressions and unknown series are caught', () => {
    assert.notDeepEqual(parsePromql('sum by (namespace (kube_job_failed) > ').errors, []);
    assert.notDeepEqual(parsePromql('rate(kube_job_failed[5m]').errors, []);
    assert.deepEqual(parsePromql('kube_job_status_failed{job_name="x"} > 0').selectors, [{ metric: 'kube_job_status_failed', labels: ['job_name'] }]);
    assert.equal(KSM_SERIES.kube_job_status_failed, undefined);
  });
  it('run-now Job names fit the 63 characters of a Job name and match the failure alert', () => {
    const cj = 'lifeboat-' + 'x'.repeat(43); // the longest CronJob name (52)
    const jobName = `${cj}-${String(Math.floor(Date.UTC(2286, 0, 1) / 1000))}`;
    assert.ok(jobName.length <= 63, `${jobName.length}`);
    const re = /job_name=~"([^"]+)"/.exec(jobFailedExpr('lb', cj))![1]!;
    assert.match(jobName, new RegExp(`^${re}$`));
  });
});
