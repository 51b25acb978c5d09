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
];
