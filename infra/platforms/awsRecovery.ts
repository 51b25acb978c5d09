/**
 * The AWS `dr` stack (role dr): the recovery environment in the DR region (`aws:region`), built from the copy of the
 * backups replicated there: recovery instances, URL secrets, and a restore task per source with the command that
 * runs it. aws.ts checks the config (recoveryProblems here) and hands the stack its tags and storage URL.
 */
import * as pulumi from '@pulumi/pulumi';
import type { LifeboatConfig } from '../config/load';
import type { AwsConfig } from '../config/aws';
import { durationSeconds } from '../config/values';
import type { StackOutputs } from './types';
import { RecoveryEnvironment, recoveryUrlSecret, type RecoveryDatabase } from '../aws/RecoveryEnvironment';
import { parseEcrImage, pinnedByDigest } from '../aws/ecrImage';
import { networkConfiguration, runTaskAndWaitCommand } from '../aws/runTaskCommand';

const KMS_KEY_REGION = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key\//;

/**
 * A `dr` stack recovers in the region it deploys to (`aws:region`), from the DR copy there: it needs that copy's key,
 * and an image it can pull while the primary region is gone, pinned to the digest that wrote the backups.
 */
export function recoveryProblems(cfg: LifeboatConfig): string[] {
  const problems: string[] = [];
  const region = cfg.aws?.region;
  const key = cfg.recovery?.backupKeyArn;
  if (cfg.recovery && !key) {
    problems.push("lifeboat:recovery.backupKeyArn: expected the DR bucket's KMS key ARN (the primary stack's drBackupKeyArn output) on aws, got nothing");
  }
  const keyRegion = key ? KMS_KEY_REGION.exec(key) : null;
  if (keyRegion && region && keyRegion[1] !== region) {
    problems.push(`lifeboat:recovery.backupKeyArn: expected a key in ${region} (aws:region, where the DR copy is restored from), got one in ${keyRegion[1]}`);
  }
  if (keyRegion && cfg.aws && keyRegion[2] !== cfg.aws.accountId) {
    problems.push(`lifeboat:recovery.backupKeyArn: expected a key of account ${cfg.aws.accountId} (lifeboat:aws.accountId), got one of ${keyRegion[2]}`);
  }
  if (!pinnedByDigest(cfg.runnerImage)) {
    problems.push(
      `lifeboat:runnerImage: expected an image pinned by digest (...@sha256:<64 hex>) in a dr stack: the digest the primary runs, which can read its backups (the primary stack's drRunnerImage output), got ${JSON.stringify(cfg.runnerImage)}`,
    );
  }
  const ecr = parseEcrImage(cfg.runnerImage);
  if (ecr && region && ecr.region !== region) {
    problems.push(
      `lifeboat:runnerImage: expected an image in ${region}'s registry (the primary region's may be unreachable; the primary stack's drRunnerImage output is the replicated one), got one in ${ecr.region}`,
    );
  }
  return problems;
}

/** The `dr` stack: recovery instances, URL secrets and restore tasks in the DR region (`aws:region`). */
export function buildAwsRecovery(cfg: LifeboatConfig, a: AwsConfig, stack: { tags: Record<string, string>; storageUrl: string }): StackOutputs {
  const recovery = cfg.recovery!;
  const prefix = cfg.namePrefix;
  const wanted = recovery.databases ? cfg.databases.filter((d) => recovery.databases!.includes(d.name)) : cfg.databases;
  const databases: RecoveryDatabase[] = wanted.map((d) => ({
    name: d.name,
    database: d.database,
    identifier: `${d.instance?.name ?? `${prefix}-${d.name}`}-dr`,
    instanceClass: d.instance?.tier ?? a.rds.instanceClass,
    postgresVersion: d.instance?.postgresVersion ?? 16,
    allocatedStorageGb: d.instance?.diskSizeGb ?? 20,
    multiAz: d.instance?.highAvailability ?? true,
    backupRetentionDays: d.managedBackup.retainedBackups,
    backupWindowStart: d.managedBackup.startTime,
  }));
  const env = new RecoveryEnvironment(`${prefix}-recovery`, {
    region: a.region,
    accountId: a.accountId,
    namePrefix: prefix,
    image: cfg.runnerImage,
    backupBucket: recovery.backupBucket,
    backupKeyArn: recovery.backupKeyArn!,
    storageRoot: cfg.storageRoot,
    databases,
    redis: cfg.redis.map((r) => r.name),
    ageIdentitySecret: cfg.ageIdentitySecret,
    rds: { subnetGroupName: a.rds.subnetGroupName, vpcSecurityGroupIds: a.rds.vpcSecurityGroupIds, masterUsername: a.rds.masterUsername },
    task: {
      cpu: a.task.cpu,
      memory: a.task.memory,
      ephemeralStorageGiB: a.task.ephemeralStorageGiB,
      timeoutSeconds: durationSeconds(a.task.restoreTimeout),
      entryPoint: a.task.entryPoint,
    },
    logRetentionDays: a.logRetentionDays,
    tags: stack.tags,
  });
  const network = networkConfiguration(a);
  const restoreCommands = Object.fromEntries(
    env.tasks.map((t) => [t.id, env.runner.cluster.name.apply((cluster) => runTaskAndWaitCommand(a.region, cluster, `${prefix}-${t.id}`, network))]),
  );
  return {
    platform: 'aws',
    role: 'dr',
    region: a.region,
    backupBucket: recovery.backupBucket,
    storageUrl: stack.storageUrl,
    clusterArn: env.runner.cluster.arn,
    logGroupName: env.runner.logGroupName,
    /** Per restore task (`<source>-restore`, `<source>-redis-restore`): runs it and fails unless it succeeded. */
    restoreCommands,
    /** Every restore, in turn, stopping at the first failure. */
    restoreCommand: pulumi.all(Object.values(restoreCommands)).apply((c) => c.join(' && ')),
    /** As data, for scripts: task definition family, source and kind per restore. */
    restoreTasks: Object.fromEntries(env.tasks.map((t) => [t.id, { family: `${prefix}-${t.id}`, source: t.source, kind: t.kind, args: t.args }])),
    /** Secrets whose values are written before the restores (the recovery Redis URLs). */
    secretsToFill: env.secretsToFill,
    /** Per database: the recovery instance's address, and the secret with the restore user's URL. */
    recoveryEndpoints: env.instanceAddresses,
    recoveryUrlSecrets: Object.fromEntries(databases.map((d) => [d.name, recoveryUrlSecret(prefix, d.name)])),
  };
}
