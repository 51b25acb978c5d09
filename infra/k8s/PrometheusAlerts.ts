/**
 * lifeboat:k8s:PrometheusAlerts: a PrometheusRule (Prometheus operator CRD) with the failure and staleness alerts of
 * the runner's CronJobs (prometheusRules.ts). Only for clusters that run the operator and kube-state-metrics.
 */
import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import type { RunnerTask } from '../shared/taskPlan';
import { COMMON_LABELS } from './cronJobSpec';
import { prometheusAlertRules, type PrometheusAlertRule } from './prometheusRules';

export interface PrometheusAlertsArgs {
  namespace: pulumi.Input<string>;
  /** Plain namespace name, for the expressions (they select series by it). */
  namespaceName: string;
  tasks: RunnerTask[];
  /** Max age per source, seconds. */
  maxAgeSeconds: Record<string, number>;
  /** Labels the operator's ruleSelector matches. Default: none. */
  ruleLabels?: Record<string, string>;
  /** Labels added to every alert, e.g. { receiver: on-call } for the Alertmanager route to match. Default: none. */
  alertLabels?: Record<string, string>;
  /** Rules built elsewhere (point-in-time recovery: pitrPrometheusRules.ts). Default: none. */
  extraRules?: PrometheusAlertRule[];
}

export class PrometheusAlerts extends pulumi.ComponentResource {
  public readonly rule: k8s.apiextensions.CustomResource;

  constructor(name: string, args: PrometheusAlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:k8s:PrometheusAlerts', name, {}, opts);
    if (args.tasks.length === 0) throw new pulumi.ResourceError(`${name}: tasks: expected at least one runner task, got none`, this);
    const rules = [...prometheusAlertRules({ namespace: args.namespaceName, tasks: args.tasks, maxAgeSeconds: args.maxAgeSeconds }), ...(args.extraRules ?? [])].map(
      (r) => ({ ...r, labels: { ...(args.alertLabels ?? {}), ...r.labels } }),
    );
    this.rule = new k8s.apiextensions.CustomResource(
      `${name}-rule`,
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: { name: 'lifeboat', namespace: args.namespace, labels: { ...COMMON_LABELS, ...(args.ruleLabels ?? {}) } },
        spec: { groups: [{ name: 'lifeboat', rules }] },
      },
      { parent: this },
    );
    this.registerOutputs({ alerts: rules.map((r) => r.alert) });
  }
}
