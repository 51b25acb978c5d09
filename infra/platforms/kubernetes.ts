/**
 * Platform adapter for Kubernetes: the runner as CronJobs on any cluster, with the cloud identity and bucket given
 * in config, and PrometheusRule alerts when the cluster runs the Prometheus operator.
 */
import { ConfigError, type LifeboatConfig } from '../config/load';
import { durationSeconds } from '../config/values';
import type { KubernetesConfig } from '../config/kubernetes';
import type { StackOutputs } from './types';
import { planTasks } from './aws';
import { RunnerNamespace, type CloudIdentity } from '../k8s/RunnerNamespace';
import { RunnerCronJobs } from '../k8s/RunnerCronJobs';
import { PrometheusAlerts } from '../k8s/PrometheusAlerts';
import { cronJobName } from '../k8s/cronJobSpec';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Kubernetes-specific checks of the validated config; throws a ConfigError naming every bad key. */
export function checkKubernetes(cfg: LifeboatConfig): KubernetesConfig {
  const problems: string[] = [];
  if (!cfg.kubernetes) problems.push('lifeboat:kubernetes: expected the Kubernetes section (platform is kubernetes), got nothing');
  if (cfg.role !== 'primary') problems.push(`lifeboat:role: expected "primary" on kubernetes, got ${JSON.stringify(cfg.role)}`);
  // Secrets are Kubernetes Secrets named like the config's secret names: those must be valid Kubernetes names.
  const secretNames: Array<[string, string]> = [
    ...cfg.databases.flatMap((d, i): Array<[string, string]> => [
      [`lifeboat:databases[${i}].secrets.databaseUrl`, d.secrets.databaseUrl],
      [`lifeboat:databases[${i}].secrets.scratchUrl`, d.secrets.scratchUrl],
    ]),
    ...cfg.redis.map((r, i): [string, string] => [`lifeboat:redis[${i}].urlSecret`, r.urlSecret]),
  ];
  for (const [key, name] of secretNames) {
    if (!DNS_LABEL.test(name)) problems.push(`${key}: expected a Kubernetes Secret name (lowercase letters, digits and "-"), got ${JSON.stringify(name)}`);
  }
  cfg.databases.forEach((d, i) => {
    if (d.instance) problems.push(`lifeboat:databases[${i}].instance: not used on kubernetes (the database is reached through its URL secret); remove it`);
  });
  // Alerts are PrometheusRules; the cluster's Alertmanager routes them. Channels are its receivers, by name.
  if (cfg.alerts.emails.length || cfg.alerts.pagerduty.length || cfg.alerts.slack.length) {
    problems.push(
      'lifeboat:alerts: on kubernetes, alerts are routed by your Alertmanager: expected only existingChannels (one receiver name), got emails/pagerduty/slack',
    );
  }
  if (cfg.alerts.existingChannels.length > 1) {
    problems.push(`lifeboat:alerts.existingChannels: expected one Alertmanager receiver name on kubernetes, got ${cfg.alerts.existingChannels.length}`);
  }
  if (!cfg.ephemeral && cfg.kubernetes && !cfg.kubernetes.prometheusOperator) {
    problems.push('lifeboat:kubernetes.prometheusOperator: expected true in a non-ephemeral stack (failure and staleness alerts are PrometheusRules), got false');
  }
  if (problems.length) throw new ConfigError(cfg.stack, problems);
  return cfg.kubernetes!;
}

export function build(cfg: LifeboatConfig): StackOutputs {
  const k = checkKubernetes(cfg);
  const prefix = cfg.namePrefix;
  const namespace = k.namespace ?? prefix;
  const identity: CloudIdentity = k.identity.gcpServiceAccounts
    ? { kind: 'gcp', serviceAccounts: k.identity.gcpServiceAccounts }
    : k.identity.awsRoleArns
      ? { kind: 'aws', roleArns: k.identity.awsRoleArns }
      : { kind: 'none' };
  const labels = { 'lifeboat-environment': cfg.environment, ...(cfg.ephemeral ? { 'lifeboat-ephemeral': 'true' } : {}) };
  const ns = new RunnerNamespace(`${prefix}-namespace`, { namespace, create: k.createNamespace, identity, labels });

  const tasks = planTasks(cfg, k.storage.url, {
    backup: durationSeconds(k.job.timeout),
    drill: durationSeconds(k.job.restoreTimeout),
  });
  new RunnerCronJobs(`${prefix}-cronjobs`, {
    namespace: ns.namespaceName,
    tasks,
    image: cfg.runnerImage,
    timeZone: cfg.timeZone,
    serviceAccounts: ns.serviceAccountNames,
    secretKey: k.secretKey,
    envFromSecret: k.storage.credentialsSecret,
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
  if (k.prometheusOperator && tasks.length) {
    new PrometheusAlerts(`${prefix}-alerts`, {
      namespace: ns.namespaceName,
      namespaceName: namespace,
      tasks,
      maxAgeSeconds: Object.fromEntries([
        ...cfg.databases.map((d) => [d.name, durationSeconds(d.maxAge)] as const),
        ...cfg.redis.map((r) => [r.name, durationSeconds(r.maxAge)] as const),
      ]),
      ruleLabels: k.prometheusRuleLabels,
      alertLabels: cfg.alerts.existingChannels.length ? { receiver: cfg.alerts.existingChannels[0]! } : {},
    });
  }
  return {
    platform: cfg.platform,
    environment: cfg.environment,
    namespace: ns.namespaceName,
    storageUrl: k.storage.url,
    /** One command per task that runs it now, e.g. a backup before a risky deploy. */
    runNow: Object.fromEntries(
      tasks.map((t) => [t.id, `kubectl -n ${namespace} create job --from=cronjob/${cronJobName(t)} ${cronJobName(t)}-manual-$(date +%s)`]),
    ),
  };
}
