/**
 * lifeboat:aws:RecoveryEnvironment: the AWS `dr` stack, built in the DR region when the primary region is lost.
 *
 * Per database a recovery RDS instance (RdsProtection, created, tagged `lifeboat-role: recovery-instance`) whose
 * master password is generated here and written only through the instance's write-only `passwordWo` and the
 * URL secret's `secretString` (a Pulumi secret, encrypted in the state), and a Secrets Manager secret with its connection URL. Per Redis source an empty
 * secret for the recovery Redis's URL (the Redis the application will use in this region; its value is written out
 * of band). Then one Fargate task definition per restore (infra/shared/recoveryPlan.ts) on a cluster of its own,
 * with its log group, under a restore role that may only read the DR bucket and decrypt with its key, and an
 * execution role that reads exactly the secrets the tasks are given, including the age identity's replica in this
 * region (the primary stack replicated it here). Nothing is scheduled: the runbook starts each task once.
 */
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import * as random from '@pulumi/random';
import { recoveryTasks, redisRestoreTaskId, restoreTaskId } from '../shared/recoveryPlan';
import type { RunnerTask } from '../shared/taskPlan';
import { restorePolicy, secretsReadPolicy, serviceTrustPolicy } from './iamDocuments';
import { RdsProtection } from './RdsProtection';
import { ECS_TASK_EXECUTION_POLICY_ARN } from './RunnerRoles';
import { RunnerTasks } from './RunnerTasks';

export interface RecoveryDatabase {
  /** The source name (the backups' `--source`). */
  name: string;
  /** The PostgreSQL database the restore creates. */
  database: string;
  /** Identifier of the recovery instance (the source instance's name with `-dr`). */
  identifier: string;
  instanceClass: string;
  postgresVersion: number;
  allocatedStorageGb: number;
  multiAz: boolean;
  backupRetentionDays: number;
  backupWindowStart: string;
}

export interface RecoveryEnvironmentArgs {
  /** The DR region: where everything here is created. */
  region: string;
  accountId: string;
  namePrefix: string;
  /** The runner image, pinned by digest, pullable in this region. */
  image: string;
  /** The DR copy: bucket name, its KMS key, the storage root. */
  backupBucket: string;
  backupKeyArn: string;
  storageRoot: string;
  databases: RecoveryDatabase[];
  /** Redis sources to restore. Default: none. */
  redis?: string[];
  ageIdentitySecret?: string;
  /** Where recovery instances and restore tasks run (this region's network). */
  rds: { subnetGroupName?: string; vpcSecurityGroupIds: string[]; masterUsername: string };
  task: { cpu: number; memory: number; ephemeralStorageGiB: number; timeoutSeconds: number; entryPoint: string[] };
  logRetentionDays: number;
  tags?: Record<string, string>;
}

/** Secret names of a recovery target. */
export const recoveryUrlSecret = (prefix: string, source: string) => `${prefix}-${source}-recovery-url`;
export const recoveryRedisUrlSecret = (prefix: string, source: string) => `${prefix}-${source}-recovery-redis-url`;

export class RecoveryEnvironment extends pulumi.ComponentResource {
  public readonly tasks: RunnerTask[];
  public readonly runner: RunnerTasks;
  /** Per database: the recovery instance's endpoint address. */
  public readonly instanceAddresses: Record<string, pulumi.Output<string>> = {};
  /** Secrets whose values are written by hand before the restores (the recovery Redis URLs). */
  public readonly secretsToFill: string[];

  constructor(name: string, args: RecoveryEnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:aws:RecoveryEnvironment', name, {}, opts);
    if (args.databases.length + (args.redis?.length ?? 0) === 0) {
      throw new pulumi.ResourceError(`${name}: databases: expected at least one database or Redis source to recover, got none`, this);
    }
    const region = args.region;
    const tags = args.tags ?? {};
    const child = { parent: this };
    const prefix = args.namePrefix;

    const secretArns: Record<string, pulumi.Output<string>> = {};
    const waitFor: pulumi.Resource[] = [];
    for (const db of args.databases) {
      const password = new random.RandomPassword(`${name}-${db.name}-password`, { length: 32, special: false }, child);
      const protection = new RdsProtection(
        `${name}-${db.name}`,
        {
          region,
          instance: {
            mode: 'create',
            identifier: db.identifier,
            instanceClass: db.instanceClass,
            postgresVersion: db.postgresVersion,
            allocatedStorageGb: db.allocatedStorageGb,
            multiAz: db.multiAz,
            subnetGroupName: args.rds.subnetGroupName,
            vpcSecurityGroupIds: args.rds.vpcSecurityGroupIds,
            masterUsername: args.rds.masterUsername,
            masterPassword: password.result,
          },
          backupRetentionDays: db.backupRetentionDays,
          backupWindowStart: db.backupWindowStart,
          deletionProtection: true,
          source: db.name,
          // A restore target, not (yet) a protected database: the policy pack tells them apart by this role.
          tags: { ...tags, 'lifeboat-role': 'recovery-instance' },
        },
        child,
      );
      this.instanceAddresses[db.name] = protection.instance.address;
      const secretName = recoveryUrlSecret(prefix, db.name);
      const secret = new aws.secretsmanager.Secret(
        `${name}-${db.name}-url`,
        {
          region,
          name: secretName,
          description: `Lifeboat DR: connection URL of the recovery instance ${db.identifier}`,
          recoveryWindowInDays: 30,
          tags: { ...tags, 'lifeboat-role': 'runner-secret', 'lifeboat-source': db.name },
        },
        child,
      );
      const url = pulumi.interpolate`postgresql://${args.rds.masterUsername}:${password.result}@${protection.instance.address}:${protection.instance.port}/${db.database}?sslmode=require`;
      waitFor.push(
        new aws.secretsmanager.SecretVersion(
          `${name}-${db.name}-url-v1`,
          // secretString, not the write-only secretStringWo: a write-only input is kept nowhere, so the engine
          // sees it as changed on every preview; as a Pulumi secret it is stored encrypted, never in plain text.
          { region, secretId: secret.id, secretString: pulumi.secret(url) },
          child,
        ),
      );
      secretArns[secretName] = secret.arn;
    }
    const fill: string[] = [];
    for (const r of args.redis ?? []) {
      const secretName = recoveryRedisUrlSecret(prefix, r);
      const secret = new aws.secretsmanager.Secret(
        `${name}-${r}-redis-url`,
        {
          region,
          name: secretName,
          description: 'Lifeboat DR: URL of the Redis to restore into; the value is written out of band, never by Pulumi',
          recoveryWindowInDays: 30,
          tags: { ...tags, 'lifeboat-role': 'runner-secret', 'lifeboat-source': r },
        },
        child,
      );
      secretArns[secretName] = secret.arn;
      fill.push(secretName);
    }
    this.secretsToFill = fill;
    if (args.ageIdentitySecret) {
      // The primary stack's secret, replicated into this region: ECS takes it only by its full ARN (with the suffix).
      secretArns[args.ageIdentitySecret] = aws.secretsmanager.getSecretOutput({ name: args.ageIdentitySecret, region }, child).arn;
    }

    const storageUrl = args.storageRoot ? `s3://${args.backupBucket}/${args.storageRoot}` : `s3://${args.backupBucket}`;
    this.tasks = recoveryTasks({
      storageUrl,
      ageIdentitySecret: args.ageIdentitySecret,
      databases: args.databases.map((d) => ({ name: d.name, targetUrlSecret: recoveryUrlSecret(prefix, d.name) })),
      redis: (args.redis ?? []).map((r) => ({ name: r, targetUrlSecret: recoveryRedisUrlSecret(prefix, r) })),
      timeoutSeconds: args.task.timeoutSeconds,
    });

    const bucketArn = `arn:aws:s3:::${args.backupBucket}`;
    const restoreRole = new aws.iam.Role(
      `${name}-restore`,
      {
        description: 'Lifeboat DR: restores from the DR copy (read and decrypt only)',
        assumeRolePolicy: JSON.stringify(serviceTrustPolicy('ecs-tasks.amazonaws.com', args.accountId)),
        tags: { ...tags, 'lifeboat-role': 'restore-identity' },
      },
      child,
    );
    new aws.iam.RolePolicy(
      `${name}-restore-storage`,
      { role: restoreRole.id, policy: JSON.stringify(restorePolicy({ bucketArn, kmsKeyArn: args.backupKeyArn, rootPrefix: args.storageRoot })) },
      child,
    );
    const execRole = new aws.iam.Role(
      `${name}-restore-exec`,
      {
        description: 'Lifeboat DR: ECS execution role of the restore tasks',
        assumeRolePolicy: JSON.stringify(serviceTrustPolicy('ecs-tasks.amazonaws.com', args.accountId)),
        tags: { ...tags, 'lifeboat-role': 'task-execution' },
      },
      child,
    );
    new aws.iam.RolePolicyAttachment(`${name}-restore-exec-managed`, { role: execRole.name, policyArn: ECS_TASK_EXECUTION_POLICY_ARN }, child);
    const execSecrets = new aws.iam.RolePolicy(
      `${name}-restore-exec-secrets`,
      { role: execRole.id, policy: pulumi.all(Object.values(secretArns)).apply((arns) => JSON.stringify(secretsReadPolicy([...new Set(arns)]))) },
      child,
    );

    this.runner = new RunnerTasks(
      `${name}-tasks`,
      {
        region,
        namePrefix: prefix,
        tasks: this.tasks,
        image: args.image,
        entryPoint: args.task.entryPoint,
        cpu: args.task.cpu,
        memory: args.task.memory,
        ephemeralStorageGiB: args.task.ephemeralStorageGiB,
        logRetentionDays: args.logRetentionDays,
        // Every recovery task runs as the reader: no identity here may write to, or delete from, the DR copy.
        taskRoleArns: { backup: restoreRole.arn, drill: restoreRole.arn },
        executionRoleArns: { backup: execRole.arn, drill: execRole.arn },
        secretArns,
        // A task must not be startable before its URL secret has a value and its execution role may read it.
        after: [...waitFor, execSecrets],
        tags,
      },
      child,
    );
    this.registerOutputs({ tasks: this.tasks.map((t) => t.id), clusterArn: this.runner.cluster.arn });
  }
}

export { restoreTaskId, redisRestoreTaskId };
