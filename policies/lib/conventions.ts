/**
 * How the pack recognises Lifeboat's resources and their roles. The conventions (labels / tags named
 * `lifeboat-*`, the component type chain in the URN) are listed in policies/RULES.md under "Conventions".
 */
import { at, isRecord, isUnknown } from './values';

export const LABEL = {
  role: 'lifeboat-role',
  source: 'lifeboat-source',
  task: 'lifeboat-task',
  alert: 'lifeboat-alert',
  ephemeral: 'lifeboat-ephemeral',
  environment: 'lifeboat-environment',
} as const;

export const ROLES = {
  backupVault: 'backup-vault',
  drVault: 'dr-vault',
  backupIdentity: 'backup-identity',
  restoreIdentity: 'restore-identity',
  drillIdentity: 'drill-identity',
  schedulerIdentity: 'scheduler-identity',
  /** The DR stack's restore target: becomes protected once a primary stack adopts it after failover. */
  recoveryInstance: 'recovery-instance',
} as const;

/** Pulumi type tokens of the resources the rules read, verified against node_modules/@pulumi/{gcp,aws,kubernetes}. */
export const T = {
  gcsBucket: 'gcp:storage/bucket:Bucket',
  gcsBucketIamMember: 'gcp:storage/bucketIAMMember:BucketIAMMember',
  gcsBucketIamBinding: 'gcp:storage/bucketIAMBinding:BucketIAMBinding',
  gcsBucketIamPolicy: 'gcp:storage/bucketIAMPolicy:BucketIAMPolicy',
  sqlInstance: 'gcp:sql/databaseInstance:DatabaseInstance',
  projectIamMember: 'gcp:projects/iAMMember:IAMMember',
  projectIamBinding: 'gcp:projects/iAMBinding:IAMBinding',
  projectCustomRole: 'gcp:projects/iAMCustomRole:IAMCustomRole',
  serviceAccount: 'gcp:serviceaccount/account:Account',
  cloudRunJob: 'gcp:cloudrunv2/job:Job',
  cloudSchedulerJob: 'gcp:cloudscheduler/job:Job',
  alertPolicy: 'gcp:monitoring/alertPolicy:AlertPolicy',
  logMetric: 'gcp:logging/metric:Metric',
  s3Bucket: ['aws:s3/bucket:Bucket', 'aws:s3/bucketV2:BucketV2'],
  s3PublicAccessBlock: ['aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock'],
  s3Encryption: [
    'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
    'aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2',
  ],
  s3Versioning: ['aws:s3/bucketVersioning:BucketVersioning', 'aws:s3/bucketVersioningV2:BucketVersioningV2'],
  s3Lifecycle: [
    'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
    'aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2',
  ],
  s3ObjectLock: [
    'aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration',
    'aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2',
  ],
  s3Replication: ['aws:s3/bucketReplicationConfig:BucketReplicationConfig'],
  rdsInstance: 'aws:rds/instance:Instance',
  iamRole: 'aws:iam/role:Role',
  iamRolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  iamPolicy: 'aws:iam/policy:Policy',
  iamRolePolicyAttachment: 'aws:iam/rolePolicyAttachment:RolePolicyAttachment',
  ecsTaskDefinition: 'aws:ecs/taskDefinition:TaskDefinition',
  awsSchedule: 'aws:scheduler/schedule:Schedule',
  cloudwatchAlarm: 'aws:cloudwatch/metricAlarm:MetricAlarm',
  awsProvider: 'pulumi:providers:aws',
  cronJob: 'kubernetes:batch/v1:CronJob',
  prometheusRule: 'kubernetes:monitoring.coreos.com/v1:PrometheusRule',
} as const;

/** Labels / tags of a resource, from wherever its provider keeps them. Unknown or non-string values are dropped. */
export function labelsOf(type: string, props: Record<string, unknown>): Record<string, string> {
  let raw: unknown;
  if (type === T.sqlInstance) raw = at(props, 'settings', 'userLabels');
  else if (type === T.alertPolicy) raw = at(props, 'userLabels');
  else if (type.startsWith('aws:')) raw = at(props, 'tags');
  else if (type.startsWith('kubernetes:')) raw = at(props, 'metadata', 'labels');
  else raw = at(props, 'labels');
  const out: Record<string, string> = {};
  if (!isRecord(raw)) return out;
  for (const [k, v] of Object.entries(raw)) if (typeof v === 'string' && !isUnknown(v)) out[k] = v;
  return out;
}

/** The types of the resource's ancestors, outermost first, read from its URN (`a$b$type`). */
export function ancestorTypes(urn: string): string[] {
  const parts = urn.split('::');
  if (parts.length < 4) return [];
  const chain = parts[2].split('$');
  return chain.slice(0, -1);
}

/** Whether the resource belongs to Lifeboat: created inside a `lifeboat:*` component or carrying a lifeboat label. */
export function isLifeboatResource(urn: string, labels: Record<string, string>): boolean {
  return ancestorTypes(urn).some((t) => t.startsWith('lifeboat:')) || Object.keys(labels).some((k) => k.startsWith('lifeboat-'));
}

/**
 * Whether a bucket holds backups: labelled as a (DR) vault, or created inside a Lifeboat component and not
 * labelled with some other role (a bucket for access logs, say, opts out with its own `lifeboat-role`).
 */
export function isBackupBucket(urn: string, labels: Record<string, string>): boolean {
  const role = labels[LABEL.role];
  if (role !== undefined) return role === ROLES.backupVault || role === ROLES.drVault;
  return ancestorTypes(urn).some((t) => t.startsWith('lifeboat:'));
}

/** Whether a bucket is the DR copy: labelled `dr-vault`, or created inside a DisasterRecovery component. */
export function isDrBucket(urn: string, labels: Record<string, string>): boolean {
  const role = labels[LABEL.role];
  if (role !== undefined) return role === ROLES.drVault;
  return ancestorTypes(urn).some((t) => /^lifeboat:[^:]+:DisasterRecovery$/.test(t));
}

/** true when the labels mark the resource as part of an ephemeral (pull-request) stack. */
export function labelledEphemeral(labels: Record<string, string>): boolean {
  return labels[LABEL.ephemeral] === 'true';
}

export const STACK_TAG_EPHEMERAL = 'lifeboat:ephemeral';
