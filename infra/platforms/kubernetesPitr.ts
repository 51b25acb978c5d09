/**
 * Point-in-time recovery on a Kubernetes stack (lifeboat:pitr): CronJobs for what needs only a connection
 * (`pitr heartbeat`, `status --archiving-url`) and the drill (its own image and pgBackRest configuration), the
 * PrometheusRule alerts for them, and, as a stack output, the schedule of what must run beside the database
 * (`pitr backup --type full|diff`, in the database's pod). Kept out of kubernetes.ts so that adapter only gains a
 * few calls.
 */
import type * as pulumi from '@pulumi/pulumi';
import type { LifeboatConfig } from '../config/load';
import { longestGapSeconds } from '../config/pitr';
import { durationSeconds } from '../config/values';
import type { KubernetesConfig } from '../config/kubernetes';
import { pitrTasks } from '../shared/pitrTasks';
import type { RunnerIdentity, RunnerTask } from '../shared/taskPlan';
import { PitrDrillCronJobs } from '../k8s/PitrDrillCronJobs';
import { pitrPrometheusRules } from '../k8s/pitrPrometheusRules';
import type { PrometheusAlertRule } from '../k8s/prometheusRules';

export function k8sPitrTasks(cfg: LifeboatConfig, storageUrl: string, drillTimeoutSeconds: number): RunnerTask[] {
  return pitrTasks({
    storageUrl,
    pitr: cfg.pitr,
    databases: cfg.databases.map((d) => ({ name: d.name, target: { kind: 'self-hosted' as const }, secrets: { databaseUrl: d.secrets.databaseUrl } })),
    drillTimeoutSeconds,
    selfHostedDrill: true,
  });
}

/** The Secret holding a source's pgBackRest configuration. */
export function pitrConfigSecret(cfg: LifeboatConfig, source: string): string {
  return cfg.pitr.configSecret ?? `${cfg.namePrefix}-${source}-pitr-config`;
}

export interface K8sPitrWiring {
  namespace: pulumi.Input<string>;
  namespaceName: string;
  tasks: RunnerTask[];
  serviceAccounts: Record<RunnerIdentity, string>;
}

/** The drill CronJobs; returns the alert rules to add to the stack's PrometheusRule. */
export function buildK8sPitr(cfg: LifeboatConfig, k: KubernetesConfig, w: K8sPitrWiring): PrometheusAlertRule[] {
  const drills = w.tasks.filter((t) => t.kind === 'pitr-drill');
  if (drills.length) {
    new PitrDrillCronJobs(`${cfg.namePrefix}-pitr-drills`, {
      namespace: w.namespace,
      tasks: drills,
      drillImage: cfg.pitr.drillImage!,
      configSecrets: Object.fromEntries(drills.map((t) => [t.source, pitrConfigSecret(cfg, t.source)])),
      timeZone: cfg.timeZone,
      serviceAccounts: w.serviceAccounts,
      secretKey: k.secretKey,
      resources: {
        cpuRequest: k.resources.cpuRequest,
        memoryRequest: k.resources.memoryRequest,
        memoryLimit: k.resources.memoryLimit,
        ...(k.resources.cpuLimit ? { cpuLimit: k.resources.cpuLimit } : {}),
      },
      scratchSize: k.resources.scratchSize,
      startingDeadlineSeconds: durationSeconds(k.job.startingDeadline),
      backoffLimit: k.job.backoffLimit,
      ttlSecondsAfterFinished: durationSeconds(k.job.ttlAfterFinished),
    });
  }
  return pitrPrometheusRules({
    namespace: w.namespaceName,
    tasks: w.tasks,
    drillWindowSeconds: longestGapSeconds(cfg.pitr.drillCron) + durationSeconds(cfg.pitr.drillSlack),
    archivingCheckSeconds: durationSeconds(cfg.pitr.archivingCheckEvery),
  });
}

/** What runs beside each database (in its pod), for the stack output: the cron lines of `pitr backup`. */
export function besideDatabase(cfg: LifeboatConfig): Record<string, string[]> {
  return Object.fromEntries(
    cfg.pitr.databases.map((source) => [
      source,
      [`${cfg.pitr.fullCron} lifeboat pitr backup --type full --source ${source}`, `${cfg.pitr.diffCron} lifeboat pitr backup --type diff --source ${source}`],
    ]),
  );
}
