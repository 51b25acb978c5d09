/**
 * Platform adapter for AWS: builds the components from the validated config. `primary` stacks protect running
 * databases; `dr` stacks build the recovery environment in the DR region (awsRecovery.ts). Config that AWS
 * cannot honour (Slack channels, more than 35 days of RDS backups, a DR image it could not pull) fails here with the
 * key, before any resource exists.
 */
import * as pulumi from '@pulumi/pulumi';
import { ConfigError, type LifeboatConfig } from '../config/load';
import { durationSeconds } from '../config/values';
import type { StackOutputs } from './types';
import { BackupBucket } from '../aws/BackupBucket';
import { BucketReplication } from '../aws/BucketReplication';
import { RunnerRoles } from '../aws/RunnerRoles';
import { RdsProtection } from '../aws/RdsProtection';
import { RunnerTasks } from '../aws/RunnerTasks';
import { RunnerSchedules } from '../aws/RunnerSchedules';
import { Alerts } from '../aws/Alerts';
import { CONTAINER_NAME } from '../aws/containerDefinition';
import { runnerTasks, type RunnerIdentity, type RunnerTask } from '../shared/taskPlan';
import { objectLockEnv } from '../shared/objectLock';
import { RunnerSecrets, ambiguousSecretName } from '../aws/RunnerSecrets';
import { stalenessWindowProblem } from '../aws/alertRules';
import type { SourceAlertInput } from '../aws/alertRules';
import type { AwsConfig } from '../config/aws';
import { awsPitrTasks, buildAwsPitr } from './awsPitr';
import { buildAwsRecovery, recoveryProblems } from './awsRecovery';
import { networkConfiguration } from '../aws/runTaskCommand';
import { parseEcrImage } from '../aws/ecrImage';
import { ImageReplication } from '../aws/ImageReplication';

/** The bucket names: account and region make them globally unique and say where they live. */
export function awsBucketName(namePrefix: string, accountId: string, region: string): string {
  return `${namePrefix}-backups-${accountId}-${region}`;
}

/** `s3://bucket/root` as the runner takes it. */
export function s3StorageUrl(bucket: string, root: string): string {
  return root ? `s3://${bucket}/${root}` : `s3://${bucket}`;
}

export function stackTags(cfg: LifeboatConfig): Record<string, string> {
  return {
    ...cfg.labels,
    'lifeboat-stack': cfg.stack,
    'lifeboat-environment': cfg.environment,
    ...(cfg.ephemeral ? { 'lifeboat-ephemeral': 'true' } : {}),
    'managed-by': 'pulumi',
  };
}

/** The five alert inputs per source, from the platform-neutral config. */
export function alertSources(cfg: LifeboatConfig): SourceAlertInput[] {
  return [
    ...cfg.databases.map((d) => ({
      source: d.name,
      engine: 'postgres' as const,
      maxAgeHours: durationSeconds(d.maxAge) / 3600,
      ...(d.sizeFloorBytes > 0 ? { minBytes: d.sizeFloorBytes } : {}),
      maxDurationSeconds: durationSeconds(d.slowAfter),
      drills: true,
    })),
    ...cfg.redis.map((r) => ({
      source: r.name,
      engine: 'redis' as const,
      maxAgeHours: durationSeconds(r.maxAge) / 3600,
      ...(r.sizeFloorBytes > 0 ? { minBytes: r.sizeFloorBytes } : {}),
      maxDurationSeconds: durationSeconds(r.slowAfter),
      drills: false,
    })),
  ];
}

/** The runner tasks of a stack, with the storage URL and time limits resolved. */
/** `objectLock`: whether the bucket can lock objects (the stack made it with Object Lock or object retention). */
export function planTasks(cfg: LifeboatConfig, storageUrl: string, timeouts: { backup: number; drill: number }, objectLock = true): RunnerTask[] {
  return runnerTasks({
    storageUrl,
    ageRecipients: cfg.ageRecipients,
    ageIdentitySecret: cfg.ageIdentitySecret,
    databases: cfg.databases,
    redis: cfg.redis,
    backupTimeoutSeconds: timeouts.backup,
    drillTimeoutSeconds: timeouts.drill,
    // The bucket's mode when locked (lifeboat:aws or lifeboat:kubernetes objectLockMode), as the bucket's default retention.
    ...(objectLock ? { objectLockEnv: objectLockEnv({ ...cfg, lockedMode: lockedModeOf(cfg) }) } : {}),
  });
}

/** The Object Lock mode a locked AWS or EKS stack gives its bucket, in the runner's spelling. */
function lockedModeOf(cfg: LifeboatConfig): 'governance' | 'compliance' {
  const k8s = cfg.kubernetes?.storage;
  const mode = cfg.aws?.objectLockMode ?? (k8s && 'aws' in k8s ? k8s.aws.objectLockMode : undefined) ?? 'COMPLIANCE';
  return mode === 'GOVERNANCE' ? 'governance' : 'compliance';
}

/** Every secret a runner task reads, with the config key that names it. */
export function runnerSecretKeys(cfg: LifeboatConfig): Array<[string, string]> {
  return [
    ...cfg.databases.flatMap((d, i): Array<[string, string]> => [
      [`lifeboat:databases[${i}].secrets.databaseUrl`, d.secrets.databaseUrl],
      [`lifeboat:databases[${i}].secrets.scratchUrl`, d.secrets.scratchUrl],
    ]),
    ...cfg.redis.map((r, i): [string, string] => [`lifeboat:redis[${i}].urlSecret`, r.urlSecret]),
    ...(cfg.ageIdentitySecret ? [['lifeboat:ageIdentitySecret', cfg.ageIdentitySecret] as [string, string]] : []),
  ];
}

/** AWS-specific checks of the validated config; throws a ConfigError naming every bad key. */
export function checkAws(cfg: LifeboatConfig): AwsConfig {
  const problems: string[] = [];
  if (!cfg.aws) problems.push('lifeboat:aws: expected the AWS section (platform is aws), got nothing');
  if (cfg.role === 'dr') problems.push(...recoveryProblems(cfg));
  if (cfg.alerts.slack.length) {
    problems.push(
      'lifeboat:alerts.slack: not available on aws (Slack needs AWS Chatbot): list the Chatbot SNS topic ARN in lifeboat:alerts.existingChannels instead',
    );
  }
  cfg.alerts.existingChannels.forEach((c, i) => {
    if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/.test(c)) {
      problems.push(`lifeboat:alerts.existingChannels[${i}]: expected an SNS topic ARN on aws, got ${JSON.stringify(c)}`);
    }
  });
  cfg.databases.forEach((d, i) => {
    if (d.managedBackup.retainedBackups > 35) {
      problems.push(`lifeboat:databases[${i}].managedBackup.retainedBackups: expected at most 35 on aws (RDS keeps 1-35 days), got ${d.managedBackup.retainedBackups}`);
    }
  });
  // The staleness alarm's window is the max age, and CloudWatch evaluates at most 7 days.
  const maxAges: Array<[string, string]> = [
    ...cfg.databases.map((d, i): [string, string] => [`lifeboat:databases[${i}].maxAge`, d.maxAge]),
    ...cfg.redis.map((r, i): [string, string] => [`lifeboat:redis[${i}].maxAge`, r.maxAge]),
  ];
  for (const [key, value] of maxAges) {
    const problem = stalenessWindowProblem(durationSeconds(value) / 3600);
    if (problem) problems.push(`${key}: ${problem}, got ${JSON.stringify(value)}`);
  }
  for (const [key, name] of runnerSecretKeys(cfg)) {
    if (ambiguousSecretName(name)) {
      problems.push(
        `${key}: expected a secret name that does not end in "-" and six letters or digits (Secrets Manager reads that as the random suffix of an ARN), got ${JSON.stringify(name)}`,
      );
    }
  }
  if (problems.length) throw new ConfigError(cfg.stack, problems);
  return cfg.aws!;
}

export function build(cfg: LifeboatConfig): StackOutputs {
  const a = checkAws(cfg);
  return cfg.role === 'dr' ? buildAwsRecovery(cfg, a, { tags: stackTags(cfg), storageUrl: s3StorageUrl(cfg.recovery!.backupBucket, cfg.storageRoot) }) : buildPrimary(cfg, a);
}

function buildPrimary(cfg: LifeboatConfig, a: AwsConfig): StackOutputs {
  const prefix = cfg.namePrefix;
  const tags = stackTags(cfg);
  // Locked: the configured mode (COMPLIANCE by default, which nobody can shorten). Not locked but kept: GOVERNANCE,
  // which admins with s3:BypassGovernanceRetention can lift (the S3 analogue of an unlocked GCS retention policy).
  const lockRetention = cfg.ephemeral
    ? undefined
    : { mode: cfg.retentionLocked ? a.objectLockMode : ('GOVERNANCE' as const), days: cfg.minimumRetentionDays };
  const bucketCommon = {
    retentionDays: cfg.retentionDays,
    drillReportDays: cfg.drillReportRetentionDays,
    rootPrefix: cfg.storageRoot,
    forceDestroy: cfg.ephemeral,
    objectLockEnabled: !cfg.ephemeral,
    lockRetention,
    tags,
  };

  const vault = new BackupBucket(`${prefix}-backups`, {
    ...bucketCommon,
    region: a.region,
    bucketName: awsBucketName(prefix, a.accountId, a.region),
  });
  let drVault: BackupBucket | undefined;
  if (cfg.drRegion) {
    drVault = new BackupBucket(`${prefix}-backups-dr`, {
      ...bucketCommon,
      region: cfg.drRegion,
      bucketName: awsBucketName(prefix, a.accountId, cfg.drRegion),
      role: 'dr-vault',
    });
    new BucketReplication(`${prefix}-replication`, {
      region: a.region,
      accountId: a.accountId,
      source: { bucketName: vault.bucketName, bucketArn: vault.bucketArn, keyArn: vault.keyArn },
      destination: { bucketArn: drVault.bucketArn, keyArn: drVault.keyArn },
      dependsOn: [vault.versioning, drVault.versioning],
      tags,
    });
  }

  const storageUrl = s3StorageUrl(awsBucketName(prefix, a.accountId, a.region), cfg.storageRoot);
  const tasks = planTasks(cfg, storageUrl, {
    backup: durationSeconds(a.task.timeout),
    drill: durationSeconds(a.task.restoreTimeout),
  });
  tasks.push(...awsPitrTasks(cfg, storageUrl, durationSeconds(a.task.restoreTimeout)));
  const secrets = new RunnerSecrets(`${prefix}-secrets`, {
    region: a.region,
    secretNames: tasks.flatMap((t) => Object.values(t.secretEnv)),
    replicaRegions: cfg.drRegion ? [cfg.drRegion] : [],
    ephemeral: cfg.ephemeral,
    tags,
  });
  const secretArns: Record<RunnerIdentity, pulumi.Output<string>[]> = { backup: [], drill: [] };
  for (const t of tasks) {
    for (const secret of Object.values(t.secretEnv)) secretArns[t.identity].push(secrets.arns[secret]!);
  }
  const roles = new RunnerRoles(`${prefix}-runner`, {
    bucketArn: vault.bucketArn,
    keyArn: vault.keyArn,
    rootPrefix: cfg.storageRoot,
    accountId: a.accountId,
    trust: { kind: 'ecs' },
    // Drills may read the DR copy too: proving it restores is the point of having it.
    drillReadBuckets: drVault ? [{ bucketArn: drVault.bucketArn, keyArn: drVault.keyArn }] : [],
    secretArns,
    tags,
  });

  const rdsInstances: Record<string, unknown> = {};
  for (const d of cfg.databases) {
    if (!d.instance) continue;
    const protection = new RdsProtection(`${prefix}-${d.name}-rds`, {
      region: a.region,
      instance: {
        mode: d.instance.mode,
        identifier: d.instance.name,
        instanceClass: d.instance.tier ?? a.rds.instanceClass,
        postgresVersion: d.instance.postgresVersion,
        allocatedStorageGb: d.instance.diskSizeGb,
        multiAz: d.instance.highAvailability ?? !cfg.ephemeral,
        dbName: d.database,
        subnetGroupName: a.rds.subnetGroupName,
        vpcSecurityGroupIds: a.rds.vpcSecurityGroupIds,
        masterUsername: a.rds.masterUsername,
      },
      backupRetentionDays: d.managedBackup.retainedBackups,
      backupWindowStart: d.managedBackup.startTime,
      source: d.name,
      deletionProtection: cfg.deletionProtection,
      ephemeral: cfg.ephemeral,
      drRegion: cfg.drRegion,
      tags,
    });
    rdsInstances[d.name] = protection.instanceArn;
  }

  const runner = new RunnerTasks(`${prefix}-tasks`, {
    region: a.region,
    namePrefix: prefix,
    tasks,
    image: cfg.runnerImage,
    entryPoint: a.task.entryPoint,
    cpu: a.task.cpu,
    memory: a.task.memory,
    ephemeralStorageGiB: a.task.ephemeralStorageGiB,
    logRetentionDays: a.logRetentionDays,
    taskRoleArns: roles.taskRoleArns,
    secretArns: secrets.arns,
    executionRoleArns: { backup: roles.executionRoles!.backup.arn, drill: roles.executionRoles!.drill.arn },
    tags,
  });
  new RunnerSchedules(`${prefix}-schedules`, {
    region: a.region,
    accountId: a.accountId,
    clusterArn: runner.cluster.arn,
    tasks: tasks.map((t) => ({ id: t.id, schedule: t.schedule, taskDefinitionArn: runner.taskDefinitions[t.id]!.arn })),
    timeZone: cfg.timeZone,
    subnetIds: a.network.subnetIds,
    securityGroupIds: a.network.securityGroupIds,
    assignPublicIp: a.network.assignPublicIp,
    passRoleArns: [
      roles.taskRoleArns.backup,
      roles.taskRoleArns.drill,
      roles.executionRoles!.backup.arn,
      roles.executionRoles!.drill.arn,
    ],
    tags,
  });
  const alerts = new Alerts(`${prefix}-alerts`, {
    region: a.region,
    accountId: a.accountId,
    logGroupName: runner.logGroup.name,
    logGroupDisplayName: runner.logGroupName,
    namespace: `Lifeboat/${prefix}`,
    sources: alertSources(cfg),
    emails: cfg.alerts.emails,
    pagerdutyKeySecrets: cfg.alerts.pagerduty.map((p) => p.serviceKeySecret),
    extraTopicArns: cfg.alerts.existingChannels,
    clusterArn: runner.cluster.arn,
    containerName: CONTAINER_NAME,
    tags,
  });

  buildAwsPitr(cfg, {
    region: a.region,
    accountId: a.accountId,
    namePrefix: prefix,
    tasks,
    drillRole: roles.taskRoles.drill.id,
    logGroupName: runner.logGroup.name,
    logGroupDisplayName: runner.logGroupName,
    namespace: `Lifeboat/${prefix}`,
    topicArns: [alerts.topic.arn, ...cfg.alerts.existingChannels],
    tags,
  });

  // The image the DR stack runs must be pullable when this region is gone: replicate its repository (same digest).
  const ecr = parseEcrImage(cfg.runnerImage);
  const imageReplication =
    cfg.drRegion && a.imageReplication && ecr && ecr.account === a.accountId && ecr.region === a.region
      ? new ImageReplication(`${prefix}-image`, { region: a.region, accountId: a.accountId, image: cfg.runnerImage, drRegion: cfg.drRegion })
      : undefined;

  const network = networkConfiguration(a);
  return {
    platform: cfg.platform,
    environment: cfg.environment,
    storageUrl,
    backupBucket: vault.bucketName,
    drBucket: drVault?.bucketName,
    drRegion: cfg.drRegion,
    /** What the DR stack's `lifeboat:recovery.backupKeyArn` takes. */
    drBackupKeyArn: drVault?.keyArn,
    /** What the DR stack's `lifeboat:runnerImage` takes: this stack's digest in the DR region's registry. */
    drRunnerImage: imageReplication?.drImage,
    backupKeyArn: vault.keyArn,
    clusterArn: runner.cluster.arn,
    logGroupName: runner.logGroupName,
    alertTopicArn: alerts.topic.arn,
    rdsInstances,
    /** One command per task that runs it now, e.g. a backup before a risky deploy. */
    runNow: Object.fromEntries(
      tasks.map((t) => [
        t.id,
        runner.cluster.name.apply(
          (cluster) =>
            `aws ecs run-task --region ${a.region} --cluster ${cluster} --launch-type FARGATE --task-definition ${prefix}-${t.id} --network-configuration '${network}'`,
        ),
      ]),
    ),
  };
}
