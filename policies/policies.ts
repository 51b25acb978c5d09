/**
 * Every rule of the pack, in RULES.md order. Kept apart from index.ts because constructing a PolicyPack starts a
 * gRPC server (and exits the process on error): tests and the offline synth import this array instead.
 */
import type { LifeboatPolicy } from './lib/rule';

import gcsPublicAccessPrevention from './rules/gcp/gcs-public-access-prevention';
import gcsUniformAccess from './rules/gcp/gcs-uniform-access';
import gcsLifecycleRules from './rules/gcp/gcs-lifecycle-rules';
import gcsVersioningOrRetention from './rules/gcp/gcs-versioning-or-retention';
import gcsRetentionLocked from './rules/gcp/gcs-retention-locked';
import gcsNoPublicMembers from './rules/gcp/gcs-no-public-members';
import cloudsqlBackupsEnabled from './rules/gcp/cloudsql-backups-enabled';
import cloudsqlPitr from './rules/gcp/cloudsql-pitr';
import cloudsqlRetainedBackups from './rules/gcp/cloudsql-retained-backups';
import cloudsqlLogRetention from './rules/gcp/cloudsql-log-retention';
import cloudsqlDeletionProtection from './rules/gcp/cloudsql-deletion-protection';
import gcpRunnerNoBroadRoles from './rules/gcp/gcp-runner-no-broad-roles';
import gcpBackupIdentityNoDelete from './rules/gcp/gcp-backup-identity-no-delete';
import cloudrunJobTimeout from './rules/gcp/cloudrun-job-timeout';
import cloudrunJobNoPlaintextSecrets from './rules/gcp/cloudrun-job-no-plaintext-secrets';
import cloudschedulerTimeZone from './rules/gcp/cloudscheduler-time-zone';
import gcpApplicationSecretReplication from './rules/gcp/gcp-application-secret-replication';
import cloudrunRestoreImagePinned from './rules/gcp/cloudrun-restore-image-pinned';
import gcpTransferAgentNoDelete from './rules/gcp/gcp-transfer-agent-no-delete';

import s3PublicAccessBlock from './rules/aws/s3-public-access-block';
import s3Encryption from './rules/aws/s3-encryption';
import s3Versioning from './rules/aws/s3-versioning';
import s3Lifecycle from './rules/aws/s3-lifecycle';
import s3ObjectLock from './rules/aws/s3-object-lock';
import rdsBackupRetention from './rules/aws/rds-backup-retention';
import rdsDeletionProtection from './rules/aws/rds-deletion-protection';
import awsRunnerNoBroadPolicies from './rules/aws/aws-runner-no-broad-policies';
import awsBackupIdentityNoDelete from './rules/aws/aws-backup-identity-no-delete';
import ecsTaskTimeout from './rules/aws/ecs-task-timeout';
import ecsTaskNonRoot from './rules/aws/ecs-task-non-root';
import ecsTaskNoPlaintextSecrets from './rules/aws/ecs-task-no-plaintext-secrets';
import ecsRestoreImagePinned from './rules/aws/ecs-restore-image-pinned';
import eventbridgeScheduleTimeZone from './rules/aws/eventbridge-schedule-time-zone';
import k8sCronjobDeadline from './rules/k8s/cronjob-deadline';
import k8sCronjobNonRoot from './rules/k8s/cronjob-non-root';
import k8sCronjobNoPlaintextSecrets from './rules/k8s/cronjob-no-plaintext-secrets';
import k8sCronjobTimeZone from './rules/k8s/cronjob-time-zone';
import k8sRestoreImagePinned from './rules/k8s/restore-image-pinned';
import stackProtectedDatabaseCoverage from './rules/stack/protected-database-coverage';
import stackDrRegion from './rules/stack/dr-region';
import stackNonEphemeralHardening from './rules/stack/non-ephemeral-hardening';
import stackEphemeralNotProduction from './rules/stack/ephemeral-not-production';
import stackPitrDrill from './rules/stack/pitr-drill';
import stackBackupLockPerClass from './rules/stack/backup-lock-per-class';

export const policies: LifeboatPolicy[] = [
  gcsPublicAccessPrevention,
  gcsUniformAccess,
  gcsLifecycleRules,
  gcsVersioningOrRetention,
  gcsRetentionLocked,
  gcsNoPublicMembers,
  cloudsqlBackupsEnabled,
  cloudsqlPitr,
  cloudsqlRetainedBackups,
  cloudsqlLogRetention,
  cloudsqlDeletionProtection,
  gcpRunnerNoBroadRoles,
  gcpBackupIdentityNoDelete,
  cloudrunJobTimeout,
  cloudrunJobNoPlaintextSecrets,
  cloudschedulerTimeZone,
  gcpApplicationSecretReplication,
  cloudrunRestoreImagePinned,
  gcpTransferAgentNoDelete,
  s3PublicAccessBlock,
  s3Encryption,
  s3Versioning,
  s3Lifecycle,
  s3ObjectLock,
  rdsBackupRetention,
  rdsDeletionProtection,
  awsRunnerNoBroadPolicies,
  awsBackupIdentityNoDelete,
  ecsTaskTimeout,
  ecsTaskNonRoot,
  ecsTaskNoPlaintextSecrets,
  ecsRestoreImagePinned,
  eventbridgeScheduleTimeZone,
  k8sCronjobDeadline,
  k8sCronjobNonRoot,
  k8sCronjobNoPlaintextSecrets,
  k8sCronjobTimeZone,
  k8sRestoreImagePinned,
  stackProtectedDatabaseCoverage,
  stackDrRegion,
  stackNonEphemeralHardening,
  stackEphemeralNotProduction,
  stackPitrDrill,
  stackBackupLockPerClass,
];
