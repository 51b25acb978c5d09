/**
 * PrometheusRule alert expressions for the runner CronJobs, on kube-state-metrics series (the Prometheus operator's
 * usual companion): a failed Job of a Lifeboat CronJob, and a backup CronJob without a successful Job within the
 * max age (including one that never succeeded since it was created).
 */
import type { RunnerTask } from '../shared/taskPlan';
import { cronJobName } from './cronJobSpec';

export interface PrometheusAlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: { summary: string; description: string };
}

/** A PromQL string literal: the names here are DNS labels, but quote defensively. */
function q(value: string): string {
  return JSON.stringify(value);
}

/**
 * A Job of this CronJob that has *failed* (its Failed condition is true: retries exhausted or deadline exceeded).
 * Not `kube_job_status_failed`, which counts failed pods and so also fires for a Job whose retry then succeeded.
 * Jobs created by the CronJob are named `<cronjob>-<scheduled minute>`; the run-now command names its Jobs
 * `<cronjob>-<epoch seconds>` (at most 63 characters, as Job names must be), so a failed manual run pages too.
 */
export function jobFailedExpr(namespace: string, cronJob: string): string {
  return `sum by (namespace, job_name) (kube_job_failed{namespace=${q(namespace)}, job_name=~${q(`${cronJob}-[0-9]+`)}, condition="true"}) > 0`;
}

/**
 * True when the newest successful Job is older than `maxAgeSeconds`, or when none ever succeeded and the CronJob
 * itself is older than that (a schedule that never worked is the worst kind of stale).
 */
export function backupStaleExpr(namespace: string, cronJob: string, maxAgeSeconds: number): string {
  const sel = `{namespace=${q(namespace)}, cronjob=${q(cronJob)}}`;
  return (
    `(time() - max(kube_cronjob_status_last_successful_time${sel}) > ${maxAgeSeconds})` +
    ` or (absent(kube_cronjob_status_last_successful_time${sel}) and on() (time() - max(kube_cronjob_created${sel}) > ${maxAgeSeconds}))`
  );
}

export interface AlertRuleInput {
  namespace: string;
  tasks: RunnerTask[];
  /** Max age per source, seconds (sources without an entry get no staleness alert). */
  maxAgeSeconds: Record<string, number>;
}

function alertName(task: RunnerTask, what: string): string {
  const camel = task.id.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
  return `Lifeboat${camel}${what}`;
}

/** The `lifeboat-alert` kind of a task's failure: drills and PITR tasks are told apart from backups. */
export function failedAlertKind(task: RunnerTask): string {
  if (task.kind === 'drill') return 'drill-failed';
  if (task.kind.startsWith('pitr-')) return `${task.kind}-failed`;
  return 'backup-failed';
}

export function prometheusAlertRules(input: AlertRuleInput): PrometheusAlertRule[] {
  const rules: PrometheusAlertRule[] = [];
  for (const task of input.tasks) {
    const cj = cronJobName(task);
    const inspect = `kubectl -n ${input.namespace} logs job/<job_name>; kubectl -n ${input.namespace} describe cronjob ${cj}`;
    rules.push({
      alert: alertName(task, 'Failed'),
      expr: jobFailedExpr(input.namespace, cj),
      for: '0m',
      labels: {
        severity: 'critical',
        'lifeboat-alert': failedAlertKind(task),
        'lifeboat-source': task.source,
        'lifeboat-task': task.kind,
      },
      annotations: {
        summary: `Lifeboat ${task.kind} of ${task.source} failed`,
        description:
          `Job {{ $labels.job_name }} of CronJob ${cj} failed. On-call: read its last event with \`${inspect}\`, fix the ` +
          `cause, then run it again with \`kubectl -n ${input.namespace} create job --from=cronjob/${cj} ${cj}-$(date +%s)\`.`,
      },
    });
    const maxAge = input.maxAgeSeconds[task.source];
    // PITR tasks get staleness rules of their own windows (pitrPrometheusRules.ts), not the backups' max age.
    if (task.kind !== 'drill' && !task.kind.startsWith('pitr-') && maxAge !== undefined) {
      rules.push({
        alert: alertName(task, 'Stale'),
        expr: backupStaleExpr(input.namespace, cj, maxAge),
        for: '10m',
        labels: { severity: 'critical', 'lifeboat-alert': 'backup-stale', 'lifeboat-source': task.source, 'lifeboat-task': task.kind },
        annotations: {
          summary: `No successful Lifeboat ${task.kind} of ${task.source} within ${maxAge} seconds`,
          description:
            `CronJob ${cj} has had no successful run within the max age. On-call: check it is not suspended and its ` +
            `Jobs start (\`kubectl -n ${input.namespace} get jobs -l app.kubernetes.io/instance=${task.source}\`), ` +
            `then run \`kubectl -n ${input.namespace} create job --from=cronjob/${cj} ${cj}-$(date +%s)\` and watch it succeed.`,
        },
      });
    }
  }
  return rules;
}
