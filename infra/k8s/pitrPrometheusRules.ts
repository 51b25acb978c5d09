/**
 * PrometheusRule alerts of point-in-time recovery on Kubernetes, on the same kube-state-metrics series as
 * prometheusRules.ts (whose failed-Job rule already covers a PITR task that fails, labelled `pitr-<kind>-failed`):
 * - `pitr-drill-missing`: no PITR drill Job succeeded within the drill's longest gap plus slack;
 * - `pitr-archiving-stale`: the archiving check (`status --archiving-url`, which fails when archiving failed or
 *   lags) has not succeeded for three of its intervals: archiving is unhealthy, or nothing checks it.
 */
import type { RunnerTask } from '../shared/taskPlan';
import { cronJobName } from './cronJobSpec';
import { backupStaleExpr, type PrometheusAlertRule } from './prometheusRules';

export interface PitrRuleInput {
  namespace: string;
  tasks: RunnerTask[];
  /** A drill must succeed within this many seconds. */
  drillWindowSeconds: number;
  /** Seconds between two archiving checks. */
  archivingCheckSeconds: number;
}

function camel(id: string): string {
  return id.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}

export function pitrPrometheusRules(input: PitrRuleInput): PrometheusAlertRule[] {
  const rules: PrometheusAlertRule[] = [];
  const runNow = (cj: string) => `kubectl -n ${input.namespace} create job --from=cronjob/${cj} ${cj}-$(date +%s)`;
  for (const task of input.tasks) {
    const cj = cronJobName(task);
    const labels = { severity: 'critical', 'lifeboat-source': task.source, 'lifeboat-task': task.kind };
    if (task.kind === 'pitr-drill') {
      rules.push({
        alert: `Lifeboat${camel(task.id)}Missing`,
        expr: backupStaleExpr(input.namespace, cj, input.drillWindowSeconds),
        for: '10m',
        labels: { ...labels, 'lifeboat-alert': 'pitr-drill-missing' },
        annotations: {
          summary: `No passing point-in-time recovery drill of ${task.source} within ${input.drillWindowSeconds} seconds`,
          description:
            `CronJob ${cj} has had no successful run within the drill's schedule plus slack. On-call: check it is not ` +
            `suspended and its Jobs start (\`kubectl -n ${input.namespace} get jobs -l lifeboat-task=pitr-drill\`), then run \`${runNow(cj)}\`.`,
        },
      });
    }
    if (task.kind === 'pitr-archiving') {
      const window = 3 * input.archivingCheckSeconds + 600;
      rules.push({
        alert: `Lifeboat${camel(task.id)}Stale`,
        expr: backupStaleExpr(input.namespace, cj, window),
        for: '0m',
        labels: { ...labels, 'lifeboat-alert': 'pitr-archiving-stale' },
        annotations: {
          summary: `WAL archiving of ${task.source} unhealthy or unchecked for ${window} seconds`,
          description:
            `The archiving check (CronJob ${cj}, \`lifeboat status --archiving-url\`) has not passed: archiving failed, lags past the RPO, ` +
            `or the check does not run. On-call: read \`kubectl -n ${input.namespace} logs job/<last job>\`; on the database, ` +
            '`pgbackrest --stanza=<source> check` as its OS user (docs/pitr.md).',
        },
      });
    }
  }
  return rules;
}
