/**
 * Platform adapter for Kubernetes: the runner as CronJobs on any cluster, PrometheusRule alerts when the cluster runs
 * the Prometheus operator, and storage either given (a bucket URL, with the cloud identity or credentials in config)
 * or provisioned by the stack on the cluster's cloud: on GCP for GKE (Workload Identity), on AWS for EKS (IRSA).
 * A `dr` stack, deployed into the surviving cluster, builds suspended restore CronJobs reading the DR copy instead.
 */
import * as aws from '@pulumi/aws';
import { ConfigError, type LifeboatConfig } from '../config/load';
import { durationSeconds } from '../config/values';
import type { AwsStorage, GcpStorage, KubernetesConfig } from '../config/kubernetes';
import type { RunnerIdentity } from '../shared/taskPlan';
import type { StackOutputs } from './types';
import { awsBucketName, planTasks, s3StorageUrl, stackTags } from './aws';
import { DEFAULT_SERVICE_ACCOUNT_NAMES, RunnerNamespace, type CloudIdentity } from '../k8s/RunnerNamespace';
import { GkeBackupStorage } from '../k8s/GkeBackupStorage';
import { EksBackupStorage } from '../k8s/EksBackupStorage';
import { oidcProviderAccount } from '../k8s/workloadIdentity';
import { RunnerCronJobs } from '../k8s/RunnerCronJobs';
import { PrometheusAlerts } from '../k8s/PrometheusAlerts';
import { cronJobName } from '../k8s/cronJobSpec';
import { besideDatabase, buildK8sPitr, k8sPitrTasks } from './kubernetesPitr';
import { EksRecoveryAccess } from '../k8s/EksRecoveryAccess';
import { recoveryTasks } from '../shared/recoveryPlan';
import { pinnedByDigest } from '../aws/ecrImage';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Kubernetes-specific checks of the validated config; throws a ConfigError naming every bad key. */
export function checkKubernetes(cfg: LifeboatConfig): KubernetesConfig {
  const problems: string[] = [];
  if (!cfg.kubernetes) problems.push('lifeboat:kubernetes: expected the Kubernetes section (platform is kubernetes), got nothing');
  if (cfg.role === 'dr') problems.push(...recoveryProblems(cfg));
  // Secrets are Kubernetes Secrets named like the config's secret names: those must be valid Kubernetes names.
  const secretNames: Array<[string, string]> = [
    ...cfg.databases.flatMap((d, i): Array<[string, string]> => [
      [`lifeboat:databases[${i}].secrets.databaseUrl`, d.secrets.databaseUrl],
      [`lifeboat:databases[${i}].secrets.scratchUrl`, d.secrets.scratchUrl],
    ]),
    ...cfg.redis.map((r, i): [string, string] => [`lifeboat:redis[${i}].urlSecret`, r.urlSecret]),
    ...(cfg.ageIdentitySecret ? [['lifeboat:ageIdentitySecret', cfg.ageIdentitySecret] as [string, string]] : []),
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
  const storage = cfg.kubernetes?.storage;
  if (cfg.role === 'primary' && storage && ('gcp' in storage || 'aws' in storage)) problems.push(...provisionProblems(cfg, storage));
  // A dr stack schedules nothing, so it has nothing to alert on: its restores are watched by whoever runs them.
  if (cfg.role === 'primary' && !cfg.ephemeral && cfg.kubernetes && !cfg.kubernetes.prometheusOperator) {
    problems.push('lifeboat:kubernetes.prometheusOperator: expected true in a non-ephemeral stack (failure and staleness alerts are PrometheusRules), got false');
  }
  if (problems.length) throw new ConfigError(cfg.stack, problems);
  return cfg.kubernetes!;
}

/** The bucket of a `gs://` or `s3://` URL. */
function bucketOf(url: string): string {
  return url.replace(/^[a-z0-9]+:\/\//, '').split('/')[0]!;
}

/**
 * A `dr` stack reads the DR copy from the surviving cluster: with storage.aws it creates the reader role (and needs
 * the copy's key, in that region), with storage.url the URL must be the copy's; and it runs a pinned image.
 */
function recoveryProblems(cfg: LifeboatConfig): string[] {
  const problems: string[] = [];
  const storage = cfg.kubernetes?.storage;
  const recovery = cfg.recovery;
  if (storage && 'gcp' in storage) {
    problems.push(
      'lifeboat:kubernetes.storage.gcp: not available with role dr: give the DR copy as storage.url (gs://<DR bucket>[/<root>]) with identity.gcpServiceAccounts (the primary stack\'s gcpServiceAccounts output: its drill account reads the DR copy) and the primary\'s namespace',
    );
  }
  if (storage && 'aws' in storage && recovery) {
    const key = recovery.backupKeyArn;
    if (!key) problems.push("lifeboat:recovery.backupKeyArn: expected the DR bucket's KMS key ARN (the primary stack's drBackupKeyArn output) with storage.aws, got nothing");
    const keyRegion = key ? /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/.exec(key)?.[1] : undefined;
    if (keyRegion && keyRegion !== storage.aws.region) {
      problems.push(
        `lifeboat:recovery.backupKeyArn: expected a key in ${storage.aws.region} (lifeboat:kubernetes.storage.aws.region, where the DR copy is read), got one in ${keyRegion}`,
      );
    }
  }
  if (storage && 'url' in storage && recovery && bucketOf(storage.url) !== recovery.backupBucket) {
    problems.push(
      `lifeboat:kubernetes.storage.url: expected the DR copy (a URL of lifeboat:recovery.backupBucket ${JSON.stringify(recovery.backupBucket)}) in a dr stack, got ${JSON.stringify(storage.url)}`,
    );
  }
  if (!pinnedByDigest(cfg.runnerImage)) {
    problems.push(
      `lifeboat:runnerImage: expected an image pinned by digest (...@sha256:<64 hex>) in a dr stack: the digest the primary runs, which can read its backups, got ${JSON.stringify(cfg.runnerImage)}`,
    );
  }
  return problems;
}

const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const GCP_REGION = /^[a-z]+-[a-z]+\d+$/;

/** A bucket this stack creates keeps a DR copy elsewhere, like the GCP and AWS stacks' buckets. */
function provisionProblems(cfg: LifeboatConfig, storage: { gcp: GcpStorage } | { aws: AwsStorage }): string[] {
  const problems: string[] = [];
  const cloud = 'gcp' in storage ? 'gcp' : 'aws';
  if (!cfg.ephemeral && !cfg.drRegion) {
    problems.push(`lifeboat:drRegion: expected a region for the DR copy of the bucket this stack creates (storage.${cloud}; required unless ephemeral), got nothing`);
  }
  if (!cfg.drRegion) return problems;
  if ('aws' in storage) {
    if (!AWS_REGION.test(cfg.drRegion)) problems.push(`lifeboat:drRegion: expected an AWS region like "eu-central-1" (storage.aws), got ${JSON.stringify(cfg.drRegion)}`);
    else if (cfg.drRegion === storage.aws.region) {
      problems.push(`lifeboat:drRegion: expected a region other than the bucket's (lifeboat:kubernetes.storage.aws.region ${JSON.stringify(storage.aws.region)}), got ${JSON.stringify(cfg.drRegion)}`);
    }
  } else if (!storage.gcp.drBucketLocation && !GCP_REGION.test(cfg.drRegion)) {
    problems.push(`lifeboat:drRegion: expected a GCP region like "europe-north1" (storage.gcp, or set storage.gcp.drBucketLocation), got ${JSON.stringify(cfg.drRegion)}`);
  }
  return problems;
}

/** Where the runner's storage is and which cloud identity each ServiceAccount carries to reach it. */
interface ResolvedStorage {
  url: string;
  identity: CloudIdentity;
  envFromSecret?: string;
  outputs: StackOutputs;
  /** The stack made the bucket, with object retention or Object Lock: backups are locked per class. */
  objectLock?: boolean;
}

function resolveStorage(cfg: LifeboatConfig, k: KubernetesConfig, namespace: string, serviceAccounts: Record<RunnerIdentity, string>): ResolvedStorage {
  const s = k.storage;
  if ('gcp' in s) return provisionOnGcp(cfg, s.gcp, namespace, serviceAccounts);
  if ('aws' in s) return provisionOnAws(cfg, s.aws, namespace, serviceAccounts);
  const identity: CloudIdentity = k.identity.gcpServiceAccounts
    ? { kind: 'gcp', serviceAccounts: k.identity.gcpServiceAccounts }
    : k.identity.awsRoleArns
      ? { kind: 'aws', roleArns: k.identity.awsRoleArns }
      : { kind: 'none' };
  return { url: s.url, identity, envFromSecret: s.credentialsSecret, outputs: {} };
}

/** GKE: the GCP stack's vault, DR copy and service accounts, bound to the KSAs through Workload Identity. */
function provisionOnGcp(cfg: LifeboatConfig, g: GcpStorage, namespace: string, serviceAccounts: Record<RunnerIdentity, string>): ResolvedStorage {
  // The GCP stack's bucket names (platforms/gcp.ts bucketNames): project ids are unique, so the names are too.
  const base = `${g.project}-${cfg.namePrefix}`.slice(0, 52);
  const drLocation = g.drBucketLocation ?? cfg.drRegion;
  const storage = new GkeBackupStorage(`${cfg.namePrefix}-storage`, {
    project: g.project,
    clusterProject: g.clusterProject,
    prefix: cfg.namePrefix,
    vault: { bucketName: `${base}-backups`, location: g.bucketLocation, dualRegions: g.dualRegions, turboReplication: g.turboReplication, kmsKeyName: g.kmsKeyName },
    ...(drLocation ? { dr: { bucketName: `${base}-dr-backups`, location: drLocation, kmsKeyName: g.drKmsKeyName } } : {}),
    lifecycle: { retentionDays: cfg.retentionDays, drillReportRetentionDays: cfg.drillReportRetentionDays, root: cfg.storageRoot },
    minimumRetentionDays: cfg.minimumRetentionDays,
    retentionLocked: cfg.retentionLocked,
    ephemeral: cfg.ephemeral,
    namespace,
    serviceAccounts,
    labels: { ...cfg.labels, 'lifeboat-environment': cfg.environment, 'managed-by': 'pulumi' },
  });
  return {
    url: storage.storageUrl,
    identity: { kind: 'gcp', serviceAccounts: storage.serviceAccountEmails },
    outputs: { bucket: storage.bucketName, drBucket: storage.drBucketName, gcpServiceAccounts: storage.serviceAccountEmails },
    objectLock: true,
  };
}

/** EKS: the AWS stack's bucket, replica and runner roles, assumed by the KSAs through IRSA. */
function provisionOnAws(cfg: LifeboatConfig, a: AwsStorage, namespace: string, serviceAccounts: Record<RunnerIdentity, string>): ResolvedStorage {
  const accountId = oidcProviderAccount(a.oidcProviderArn);
  // The region comes from this section, not `aws:region`: an explicit provider so the stack needs no AWS default
  // provider config, and refuses to run with another account's credentials.
  const provider = new aws.Provider(`${cfg.namePrefix}-aws`, { region: a.region as aws.Region, allowedAccountIds: [accountId] });
  // As on the AWS stack: locked → the configured mode; kept but unlocked → GOVERNANCE; ephemeral → none.
  const lockRetention = cfg.ephemeral
    ? undefined
    : { mode: cfg.retentionLocked ? a.objectLockMode : ('GOVERNANCE' as const), days: cfg.minimumRetentionDays };
  const bucketName = awsBucketName(cfg.namePrefix, accountId, a.region);
  const storage = new EksBackupStorage(
    `${cfg.namePrefix}-storage`,
    {
      region: a.region,
      bucketName,
      ...(cfg.drRegion ? { dr: { region: cfg.drRegion, bucketName: awsBucketName(cfg.namePrefix, accountId, cfg.drRegion) } } : {}),
      retentionDays: cfg.retentionDays,
      drillReportDays: cfg.drillReportRetentionDays,
      rootPrefix: cfg.storageRoot,
      lockRetention,
      ephemeral: cfg.ephemeral,
      oidcProviderArn: a.oidcProviderArn,
      namespace,
      serviceAccounts,
      tags: stackTags(cfg),
    },
    { providers: { aws: provider } },
  );
  return {
    url: s3StorageUrl(bucketName, cfg.storageRoot),
    identity: { kind: 'aws', roleArns: storage.roleArns },
    outputs: { bucket: storage.bucketName, drBucket: storage.drBucketName, drBackupKeyArn: storage.drKeyArn, roleArns: storage.roleArns },
    objectLock: true,
  };
}

export function build(cfg: LifeboatConfig): StackOutputs {
  const k = checkKubernetes(cfg);
  return cfg.role === 'dr' ? buildRecovery(cfg, k) : buildPrimary(cfg, k);
}

/** Recovery target secrets: Kubernetes Secrets in the namespace, written by hand before the restores. */
export const recoveryUrlSecret = (prefix: string, source: string) => `${prefix}-${source}-recovery-url`;
export const recoveryRedisUrlSecret = (prefix: string, source: string) => `${prefix}-${source}-recovery-redis-url`;

/**
 * The `dr` stack, in the surviving cluster: the namespace, the restore ServiceAccount with a cloud identity that
 * reads the DR copy, and one suspended CronJob per database and Redis source, each a template for one Job that
 * restores the newest backup into the target its Secret names.
 */
function buildRecovery(cfg: LifeboatConfig, k: KubernetesConfig): StackOutputs {
  const prefix = cfg.namePrefix;
  const recovery = cfg.recovery!;
  const namespace = k.namespace ?? prefix;
  const serviceAccountNames = { ...DEFAULT_SERVICE_ACCOUNT_NAMES };
  const s = k.storage;
  let url: string;
  let identity: CloudIdentity;
  let envFromSecret: string | undefined;
  const outputs: StackOutputs = {};
  if ('aws' in s) {
    const accountId = oidcProviderAccount(s.aws.oidcProviderArn);
    const provider = new aws.Provider(`${prefix}-aws`, { region: s.aws.region as aws.Region, allowedAccountIds: [accountId] });
    const access = new EksRecoveryAccess(
      `${prefix}-dr-access`,
      {
        bucketName: recovery.backupBucket,
        keyArn: recovery.backupKeyArn!,
        rootPrefix: cfg.storageRoot,
        oidcProviderArn: s.aws.oidcProviderArn,
        namespace,
        serviceAccount: serviceAccountNames.drill,
        tags: stackTags(cfg),
      },
      { providers: { aws: provider } },
    );
    url = s3StorageUrl(recovery.backupBucket, cfg.storageRoot);
    identity = { kind: 'aws', roleArns: { backup: access.roleArn, drill: access.roleArn } };
    outputs.roleArn = access.roleArn;
  } else {
    const given = resolveStorage(cfg, k, namespace, serviceAccountNames);
    url = given.url;
    identity = given.identity;
    envFromSecret = given.envFromSecret;
  }
  const labels = { 'lifeboat-environment': cfg.environment };
  const ns = new RunnerNamespace(`${prefix}-namespace`, { namespace, create: k.createNamespace, identity, serviceAccountNames, identities: ['drill'], labels });
  const wanted = recovery.databases ? cfg.databases.filter((d) => recovery.databases!.includes(d.name)) : cfg.databases;
  const tasks = recoveryTasks({
    storageUrl: url,
    ageIdentitySecret: cfg.ageIdentitySecret,
    databases: wanted.map((d) => ({ name: d.name, targetUrlSecret: recoveryUrlSecret(prefix, d.name) })),
    redis: cfg.redis.map((r) => ({ name: r.name, targetUrlSecret: recoveryRedisUrlSecret(prefix, r.name) })),
    timeoutSeconds: durationSeconds(k.job.restoreTimeout),
  });
  new RunnerCronJobs(`${prefix}-restores`, {
    namespace: ns.namespaceName,
    tasks,
    image: cfg.runnerImage,
    timeZone: cfg.timeZone,
    serviceAccounts: ns.serviceAccountNames,
    secretKey: k.secretKey,
    envFromSecret,
    resources: {
      cpuRequest: k.resources.cpuRequest,
      memoryRequest: k.resources.memoryRequest,
      memoryLimit: k.resources.memoryLimit,
      ...(k.resources.cpuLimit ? { cpuLimit: k.resources.cpuLimit } : {}),
    },
    scratchSize: k.resources.scratchSize,
    startingDeadlineSeconds: durationSeconds(k.job.startingDeadline),
    // No retry: a restore whose counts differ keeps its database for inspection, and a retry would fail on it.
    backoffLimit: 0,
    ttlSecondsAfterFinished: durationSeconds(k.job.ttlAfterFinished),
    suspend: true,
  });
  const restoreCommands = Object.fromEntries(
    tasks.map((t) => {
      const name = cronJobName(t);
      // `kubectl wait` waits for one condition only: polled, so a failed Job ends the command at once (exit 1).
      const conditions = `kubectl -n ${namespace} get job/$J -o jsonpath='{.status.conditions[*].type}'`;
      return [
        t.id,
        `J=${name}-$(date +%s) && kubectl -n ${namespace} create job --from=cronjob/${name} $J && ` +
          `until ${conditions} | grep -qE 'Complete|Failed'; do sleep 15; done && ${conditions} | grep -q Complete`,
      ];
    }),
  );
  return {
    platform: cfg.platform,
    role: 'dr',
    environment: cfg.environment,
    namespace: ns.namespaceName,
    storageUrl: url,
    backupBucket: recovery.backupBucket,
    ...outputs,
    /** Kubernetes Secrets to create in the namespace before the restores (value under the key `value`). */
    secretsToFill: [
      ...tasks.flatMap((t) => Object.values(t.secretEnv)).filter((v, i, all) => all.indexOf(v) === i),
    ],
    /** Per restore (`<source>-restore`, `<source>-redis-restore`): starts its Job and waits for it to complete. */
    restoreCommands,
    /** Every restore, in turn, stopping at the first failure. */
    restoreCommand: Object.values(restoreCommands).join(' && '),
  };
}

function buildPrimary(cfg: LifeboatConfig, k: KubernetesConfig): StackOutputs {
  const prefix = cfg.namePrefix;
  const namespace = k.namespace ?? prefix;
  const serviceAccountNames = { ...DEFAULT_SERVICE_ACCOUNT_NAMES };
  const storage = resolveStorage(cfg, k, namespace, serviceAccountNames);
  const labels = { 'lifeboat-environment': cfg.environment, ...(cfg.ephemeral ? { 'lifeboat-ephemeral': 'true' } : {}) };
  const ns = new RunnerNamespace(`${prefix}-namespace`, { namespace, create: k.createNamespace, identity: storage.identity, serviceAccountNames, labels });

  // A bucket given by URL may have no object retention or Object Lock, which a locked upload needs: no lock asked.
  const tasks = planTasks(cfg, storage.url, {
    backup: durationSeconds(k.job.timeout),
    drill: durationSeconds(k.job.restoreTimeout),
  }, storage.objectLock ?? false);
  tasks.push(...k8sPitrTasks(cfg, storage.url, durationSeconds(k.job.restoreTimeout)));
  const pitrRules = buildK8sPitr(cfg, k, { namespace: ns.namespaceName, namespaceName: namespace, tasks, serviceAccounts: ns.serviceAccountNames });
  new RunnerCronJobs(`${prefix}-cronjobs`, {
    namespace: ns.namespaceName,
    // The PITR drills are CronJobs of their own (PitrDrillCronJobs): another image and pgBackRest's configuration.
    tasks: tasks.filter((t) => t.kind !== 'pitr-drill'),
    image: cfg.runnerImage,
    timeZone: cfg.timeZone,
    serviceAccounts: ns.serviceAccountNames,
    secretKey: k.secretKey,
    envFromSecret: storage.envFromSecret,
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
      extraRules: pitrRules,
    });
  }
  return {
    platform: cfg.platform,
    environment: cfg.environment,
    namespace: ns.namespaceName,
    storageUrl: storage.url,
    ...storage.outputs,
    /** Point-in-time recovery: the `pitr backup` schedule to run in each database's pod (docs/kubernetes.md). */
    ...(cfg.pitr.databases.length ? { pitrBesideDatabase: besideDatabase(cfg) } : {}),
    /**
     * One command per task that runs it now, e.g. a backup before a risky deploy. The Job is named like a scheduled
     * one (`<cronjob>-<number>`, at most 63 characters), so the failure alert covers it too.
     */
    runNow: Object.fromEntries(
      tasks.map((t) => [t.id, `kubectl -n ${namespace} create job --from=cronjob/${cronJobName(t)} ${cronJobName(t)}-$(date +%s)`]),
    ),
  };
}
