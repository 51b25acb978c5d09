/**
 * IAM policy documents for the runner's identities, as pure functions of ARNs so they can be tested as data.
 *
 * The backup identity may write and read backups but has no s3:Delete* right at all: whoever holds the writer's
 * credentials must not be able to destroy backups, so retention is done by lifecycle rules and Object Lock, never by
 * the writer. s3:AbortMultipartUpload stays: it only discards the parts of an upload that never completed, and the
 * runner's S3 backend aborts failed uploads with it. s3:PutObjectRetention is granted too: the runner locks each
 * backup for its class's retention at upload (S3 checks it for a PutObject or CreateMultipartUpload that carries
 * a retain-until). Without s3:BypassGovernanceRetention it can only set or lengthen a lock, never shorten or
 * remove one, so it destroys nothing; the worst a stolen credential can do with it is keep objects longer.
 */
import { DRILLS_PREFIX } from '../../runner/contract/layout';
import { normaliseRootPrefix } from './lifecycle';

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/**
 * Every S3 action that removes data or weakens its protection: none of the runner's identities gets any of these.
 * (s3:PutObjectRetention is not one: without s3:BypassGovernanceRetention a lock can only be set or lengthened.)
 */
export const DESTRUCTIVE_S3_ACTIONS = [
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:PutLifecycleConfiguration',
  's3:PutBucketObjectLockConfiguration',
  's3:BypassGovernanceRetention',
  's3:PutBucketVersioning',
  's3:DeleteBucket',
  's3:PutBucketPolicy',
] as const;

export interface BucketAccess {
  bucketArn: string;
  /** The KMS key that encrypts the bucket (SSE-KMS): readers need Decrypt, writers GenerateDataKey. */
  kmsKeyArn: string;
  /** Storage root inside the bucket, as in the runner's s3:// URL ('' for the whole bucket). */
  rootPrefix?: string;
}

function listStatement(a: BucketAccess): PolicyStatement {
  const root = normaliseRootPrefix(a.rootPrefix);
  return {
    Sid: 'ListBackups',
    Effect: 'Allow',
    Action: ['s3:ListBucket'],
    Resource: a.bucketArn,
    ...(root ? { Condition: { StringLike: { 's3:prefix': [`${root}*`] } } } : {}),
  };
}

function objects(a: BucketAccess, sub = ''): string {
  return `${a.bucketArn}/${normaliseRootPrefix(a.rootPrefix)}${sub}*`;
}

/** Backup: create and read objects under the root, list them; no delete, no overwrite of bucket settings. */
export function backupPolicy(a: BucketAccess): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      listStatement(a),
      {
        Sid: 'WriteAndReadBackups',
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        Resource: objects(a),
      },
      // Lock each backup for its class at upload (never shorten: no s3:BypassGovernanceRetention).
      { Sid: 'LockBackups', Effect: 'Allow', Action: ['s3:PutObjectRetention'], Resource: objects(a) },
      {
        Sid: 'EncryptWithBucketKey',
        Effect: 'Allow',
        // Multipart uploads with SSE-KMS need Decrypt too (S3 decrypts the data key to assemble the parts).
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: a.kmsKeyArn,
      },
    ],
  };
}

/** Restore: read and list only. */
export function restorePolicy(a: BucketAccess): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      listStatement(a),
      { Sid: 'ReadBackups', Effect: 'Allow', Action: ['s3:GetObject'], Resource: objects(a) },
      { Sid: 'DecryptWithBucketKey', Effect: 'Allow', Action: ['kms:Decrypt'], Resource: a.kmsKeyArn },
    ],
  };
}

/** Drill: what restore may, plus writing its report under drills/ (and nothing else). */
export function drillPolicy(a: BucketAccess): PolicyDocument {
  const base = restorePolicy(a);
  return {
    Version: '2012-10-17',
    Statement: [
      ...base.Statement.filter((s) => s.Sid !== 'DecryptWithBucketKey'),
      { Sid: 'WriteDrillReports', Effect: 'Allow', Action: ['s3:PutObject'], Resource: objects(a, `${DRILLS_PREFIX}/`) },
      { Sid: 'UseBucketKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: a.kmsKeyArn },
    ],
  };
}

/** Reading exactly the secrets a task is given (ECS injects them through the task's execution role). */
export function secretsReadPolicy(secretArns: string[]): PolicyDocument | undefined {
  if (secretArns.length === 0) return undefined;
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'ReadTaskSecrets', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [...secretArns].sort() },
    ],
  };
}

/** Trust policy letting one AWS service assume a role, optionally only on behalf of this account. */
export function serviceTrustPolicy(service: string, accountId?: string): object {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: service },
        Action: 'sts:AssumeRole',
        // Confused-deputy guard: the service may assume the role only for calls from this account.
        ...(accountId ? { Condition: { StringEquals: { 'aws:SourceAccount': accountId } } } : {}),
      },
    ],
  };
}

/** Trust policy for EKS IRSA: pods running as `system:serviceaccount:<ns>:<sa>` through the cluster's OIDC provider. */
export function irsaTrustPolicy(oidcProviderArn: string, namespace: string, serviceAccount: string): object {
  const issuer = oidcProviderArn.replace(/^arn:[^:]+:iam::\d+:oidc-provider\//, '');
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: oidcProviderArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
            [`${issuer}:aud`]: 'sts.amazonaws.com',
          },
        },
      },
    ],
  };
}

export interface SchedulerAccess {
  clusterArn: string;
  /** Task definition ARNs (any revision of their family is allowed, so a new revision needs no policy change). */
  taskDefinitionArns: string[];
  /** Task and execution role ARNs the scheduler hands to ECS. */
  passRoleArns: string[];
}

/** Strips the `:<revision>` of a task definition ARN and allows any revision of that family. */
export function anyRevision(taskDefinitionArn: string): string {
  return taskDefinitionArn.replace(/:\d+$/, '') + ':*';
}

/** Scheduler: run these task definitions on this cluster and pass their roles to ECS; nothing else. */
export function schedulerPolicy(a: SchedulerAccess): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'RunRunnerTasks',
        Effect: 'Allow',
        Action: ['ecs:RunTask'],
        Resource: [...new Set(a.taskDefinitionArns.map(anyRevision))].sort(),
        Condition: { ArnEquals: { 'ecs:cluster': a.clusterArn } },
      },
      {
        Sid: 'PassRunnerRoles',
        Effect: 'Allow',
        Action: ['iam:PassRole'],
        Resource: [...new Set(a.passRoleArns)].sort(),
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
    ],
  };
}

/**
 * The ARN pattern of a Secrets Manager secret known by name: AWS appends `-` and six random characters to the name,
 * so `??????` matches exactly that suffix and no other secret whose name merely starts the same.
 */
export function secretArnPattern(region: string, accountId: string, secretName: string): string {
  return `arn:aws:secretsmanager:${region}:${accountId}:secret:${secretName}-??????`;
}
