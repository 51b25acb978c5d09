import { defineRuleCases, type RuleCase } from './cases';
import { UNKNOWN_VALUE, setPath } from './fixtures/build';
import { gcpStack } from './fixtures/gcp';

const set = (path: (string | number)[], value: unknown) => (inputs: Record<string, unknown>) => setPath(inputs, path, value);

const cases: RuleCase[] = [
  { rule: 'gcs-public-access-prevention', title: 'inherited', target: 'vault-bucket', change: set(['publicAccessPrevention'], 'inherited') },
  { rule: 'gcs-public-access-prevention', title: 'undefined', target: 'vault-bucket', change: set(['publicAccessPrevention'], undefined) },
  { rule: 'gcs-public-access-prevention', title: 'unknown at preview', target: 'vault-bucket', change: set(['publicAccessPrevention'], UNKNOWN_VALUE), passes: true },
  { rule: 'gcs-uniform-access', title: 'false', target: 'vault-bucket', change: set(['uniformBucketLevelAccess'], false) },
  { rule: 'gcs-uniform-access', title: 'undefined', target: 'dr-bucket', change: set(['uniformBucketLevelAccess'], undefined) },
  { rule: 'gcs-lifecycle-rules', title: 'empty', target: 'vault-bucket', change: set(['lifecycleRules'], []) },
  { rule: 'gcs-lifecycle-rules', title: 'undefined', target: 'vault-bucket', change: set(['lifecycleRules'], undefined) },
  { rule: 'gcs-lifecycle-rules', title: 'no Delete action', target: 'dr-bucket', change: set(['lifecycleRules'], [{ action: { type: 'SetStorageClass', storageClass: 'ARCHIVE' }, condition: { age: 30 } }]) },
  { rule: 'gcs-lifecycle-rules', title: 'unknown at preview', target: 'vault-bucket', change: set(['lifecycleRules'], UNKNOWN_VALUE), passes: true },
  { rule: 'gcs-versioning-or-retention', title: 'neither set', target: 'vault-bucket', change: set(['retentionPolicy'], undefined), message: /neither versioning nor a retention policy/ },
  { rule: 'gcs-versioning-or-retention', title: 'retention too short', target: 'vault-bucket', change: set(['retentionPolicy', 'retentionPeriod'], '3600') },
  { rule: 'gcs-versioning-or-retention', title: 'versioning instead of retention', target: 'vault-bucket', change: (i) => { delete i.retentionPolicy; i.versioning = { enabled: true }; }, passes: true },
  { rule: 'gcs-versioning-or-retention', title: 'threshold from config', target: 'vault-bucket', change: () => {}, opts: { config: { 'gcs-versioning-or-retention': { minRetentionDays: 30 } } } },
  { rule: 'gcs-retention-locked', title: 'unlocked', target: 'vault-bucket', change: set(['retentionPolicy', 'isLocked'], false) },
  { rule: 'gcs-retention-locked', title: 'isLocked undefined', target: 'dr-bucket', change: set(['retentionPolicy', 'isLocked'], undefined) },
  { rule: 'gcs-retention-locked', title: 'unlocked in an ephemeral (labelled) stack', target: 'vault-bucket', change: (i) => { setPath(i, ['retentionPolicy', 'isLocked'], false); setPath(i, ['labels', 'lifeboat-ephemeral'], 'true'); }, passes: true },
  { rule: 'gcs-retention-locked', title: 'unlocked with stack tag lifeboat:ephemeral', target: 'vault-bucket', change: set(['retentionPolicy', 'isLocked'], false), opts: { stackTags: { 'lifeboat:ephemeral': 'true' } }, passes: true },
  { rule: 'gcs-retention-locked', title: 'unlocked but waived with a reason', target: 'vault-bucket', change: set(['retentionPolicy', 'isLocked'], false), opts: { config: { 'gcs-retention-locked': { waivers: [{ pattern: 'vault-*', reason: 'lock applied by hand after the audit (TICKET-12)' }] } } }, passes: true },
  { rule: 'gcs-retention-locked', title: 'waiver without a reason', target: 'vault-bucket', change: () => {}, opts: { config: { 'gcs-retention-locked': { waivers: [{ pattern: 'vault-*' }] } } }, message: /gives no reason/ },
  { rule: 'gcs-no-public-members', title: 'allUsers member', target: 'identity-restore-viewer', change: set(['member'], 'allUsers') },
  { rule: 'gcs-no-public-members', title: 'allAuthenticatedUsers member', target: 'identity-backup-viewer', change: set(['member'], 'allAuthenticatedUsers') },
  { rule: 'gcs-no-public-members', title: 'member undefined', target: 'identity-restore-viewer', change: set(['member'], undefined), passes: true },
  { rule: 'cloudsql-backups-enabled', title: 'disabled', target: 'orders-instance', change: set(['settings', 'backupConfiguration', 'enabled'], false) },
  { rule: 'cloudsql-backups-enabled', title: 'undefined', target: 'orders-instance', change: set(['settings', 'backupConfiguration'], undefined) },
  { rule: 'cloudsql-backups-enabled', title: 'read replica', target: 'orders-instance', change: (i) => { setPath(i, ['settings', 'backupConfiguration', 'enabled'], false); i.masterInstanceName = 'orders-primary'; }, passes: true },
  { rule: 'cloudsql-pitr', title: 'off', target: 'orders-instance', change: set(['settings', 'backupConfiguration', 'pointInTimeRecoveryEnabled'], false) },
  { rule: 'cloudsql-pitr', title: 'undefined', target: 'orders-instance', change: set(['settings', 'backupConfiguration', 'pointInTimeRecoveryEnabled'], undefined) },
  { rule: 'cloudsql-pitr', title: 'unknown settings', target: 'orders-instance', change: set(['settings'], UNKNOWN_VALUE), passes: true },
  { rule: 'cloudsql-retained-backups', title: 'too few', target: 'orders-instance', change: set(['settings', 'backupConfiguration', 'backupRetentionSettings', 'retainedBackups'], 3) },
  { rule: 'cloudsql-retained-backups', title: 'undefined', target: 'orders-instance', change: set(['settings', 'backupConfiguration', 'backupRetentionSettings'], undefined) },
  { rule: 'cloudsql-retained-backups', title: 'threshold from config', target: 'orders-instance', change: () => {}, opts: { config: { 'cloudsql-retained-backups': { minRetainedBackups: 30 } } } },
  { rule: 'cloudsql-log-retention', title: 'too short', target: 'orders-instance', change: set(['settings', 'backupConfiguration', 'transactionLogRetentionDays'], 1) },
  { rule: 'cloudsql-log-retention', title: 'undefined', target: 'orders-instance', change: set(['settings', 'backupConfiguration', 'transactionLogRetentionDays'], undefined) },
  { rule: 'cloudsql-deletion-protection', title: 'Pulumi-side off', target: 'orders-instance', change: set(['deletionProtection'], false) },
  { rule: 'cloudsql-deletion-protection', title: 'API-side undefined', target: 'orders-instance', change: set(['settings', 'deletionProtectionEnabled'], undefined) },
  { rule: 'cloudsql-deletion-protection', title: 'off in an ephemeral stack (policy config)', target: 'orders-instance', change: set(['deletionProtection'], false), opts: { config: { 'cloudsql-deletion-protection': { ephemeral: true } } }, passes: true },
  { rule: 'gcp-runner-no-broad-roles', title: 'editor on the project', target: 'identity-backup-sqlclient', change: set(['role'], 'roles/editor') },
  { rule: 'gcp-runner-no-broad-roles', title: 'storage admin for the restore identity', target: 'identity-restore-viewer', change: set(['role'], 'roles/storage.admin') },
  { rule: 'gcp-backup-identity-no-delete', title: 'objectAdmin on the bucket', target: 'identity-backup-creator', change: set(['role'], 'roles/storage.objectAdmin') },
  { rule: 'gcp-backup-identity-no-delete', title: 'legacyBucketWriter on the bucket', target: 'identity-backup-viewer', change: set(['role'], 'roles/storage.legacyBucketWriter') },
  { rule: 'gcp-backup-identity-no-delete', title: 'objectAdmin for the restore identity', target: 'identity-restore-viewer', change: set(['role'], 'roles/storage.objectAdmin'), passes: true },
  { rule: 'gcp-backup-identity-no-delete', title: 'role unknown at preview', target: 'identity-backup-creator', change: set(['role'], UNKNOWN_VALUE), passes: true },
  { rule: 'gcp-runner-no-broad-roles', title: 'storage admin for a runner account, granted outside any Lifeboat component', target: 'vault-bucket', change: (_i, all) => {
    const sa = all.find((r) => r.name === 'identity-restore')!;
    all.push({ ...sa, urn: 'urn:pulumi:prod::lifeboat::gcp:storage/bucketIAMMember:BucketIAMMember::extra-admin', type: 'gcp:storage/bucketIAMMember:BucketIAMMember', name: 'extra-admin', parent: undefined, custom: true, inputs: { bucket: 'vault-bucket', role: 'roles/storage.admin', member: 'serviceAccount:lifeboat-restore@p.iam.gserviceaccount.com' }, dependencies: [] });
  }, reportedOn: 'extra-admin' },
  { rule: 'gcp-runner-no-broad-roles', title: 'owner for a runner account whose email is unknown at preview (linked by dependency)', target: 'identity-scheduler-invoker', change: (i) => { i.role = 'roles/owner'; i.member = UNKNOWN_VALUE; }, message: /grants roles\/owner to a runner identity/ },
  { rule: 'gcp-runner-no-broad-roles', title: 'storage admin for the Storage Transfer agent (Google\'s, not the runner\'s)', target: 'dr-sts-sink-legacybucketowner', change: set(['role'], 'roles/storage.admin'), passes: true },
  { rule: 'gcp-runner-no-broad-roles', title: 'editor for the Cloud Storage service agent', target: 'dr-gcs-publisher', change: set(['role'], 'roles/editor'), passes: true },
  { rule: 'gcp-runner-no-broad-roles', title: 'role undefined', target: 'identity-backup-sqlclient', change: set(['role'], undefined), passes: true },
  { rule: 'gcp-backup-identity-no-delete', title: 'custom role with storage.objects.delete', target: 'identity-backup-creator', change: (i, all) => {
    const role = { ...all[0], urn: 'urn:pulumi:prod::lifeboat::gcp:projects/iAMCustomRole:IAMCustomRole::pruner', type: 'gcp:projects/iAMCustomRole:IAMCustomRole', name: 'pruner', parent: undefined, inputs: { roleId: 'lifeboatPruner', title: 'pruner', permissions: ['storage.objects.list', 'storage.objects.delete'] }, dependencies: [] };
    all.push(role);
    i.role = 'projects/p/roles/lifeboatPruner';
  }, message: /custom role pruner/ },
  { rule: 'gcp-backup-identity-no-delete', title: 'role undefined', target: 'identity-backup-creator', change: set(['role'], undefined), passes: true },
  { rule: 'cloudrun-job-timeout', title: 'undefined', target: 'jobs-orders-backup', change: set(['template', 'template', 'timeout'], undefined) },
  { rule: 'cloudrun-job-timeout', title: 'too long', target: 'jobs-orders-drill', change: set(['template', 'template', 'timeout'], '172800s') },
  { rule: 'cloudrun-job-timeout', title: 'not a duration', target: 'jobs-orders-backup', change: set(['template', 'template', 'timeout'], '2h') },
  { rule: 'cloudrun-job-no-plaintext-secrets', title: 'DATABASE_URL as a literal', target: 'jobs-orders-backup', change: set(['template', 'template', 'containers', 0, 'envs', 1], { name: 'DATABASE_URL', value: 'postgres://app:hunter2@10.0.0.3/orders' }) },
  { rule: 'cloudrun-job-no-plaintext-secrets', title: 'password in an innocent name', target: 'jobs-orders-backup', change: set(['template', 'template', 'containers', 0, 'envs', 0, 'value'], 'postgres://app:hunter2@10.0.0.3/orders') },
  { rule: 'cloudrun-job-no-plaintext-secrets', title: 'secret value unknown at preview', target: 'jobs-orders-backup', change: set(['template', 'template', 'containers', 0, 'envs', 1], { name: 'PGPASSWORD', value: UNKNOWN_VALUE }), passes: true },
  { rule: 'cloudrun-job-no-plaintext-secrets', title: 'envs undefined', target: 'jobs-orders-backup', change: set(['template', 'template', 'containers', 0, 'envs'], undefined), passes: true },
  { rule: 'cloudscheduler-time-zone', title: 'undefined', target: 'schedules-orders-backup', change: set(['timeZone'], undefined) },
  { rule: 'cloudscheduler-time-zone', title: 'empty', target: 'schedules-orders-drill', change: set(['timeZone'], '') },
  { rule: 'stack-protected-database-coverage', title: 'drill schedule removed', target: 'schedules-orders-drill', change: (_i, all) => { all.splice(all.findIndex((r) => r.name === 'schedules-orders-drill'), 1); }, reportedOn: 'orders-instance', message: /a schedule for its drill job/ },
  { rule: 'stack-protected-database-coverage', title: 'drill job removed', target: 'jobs-orders-drill', change: (_i, all) => { for (const n of ['jobs-orders-drill', 'schedules-orders-drill']) all.splice(all.findIndex((r) => r.name === n), 1); }, reportedOn: 'orders-instance', message: /a drill job/ },
  { rule: 'stack-protected-database-coverage', title: 'staleness alert label undefined', target: 'alerts-backup-stale', change: set(['userLabels'], undefined), reportedOn: 'orders-instance', message: /backup-stale alert/ },
  { rule: 'stack-protected-database-coverage', title: 'failure alert scoped to another source', target: 'alerts-backup-failed', change: set(['userLabels', 'lifeboat-source'], 'billing'), reportedOn: 'orders-instance', message: /backup-failed alert/ },
  { rule: 'stack-protected-database-coverage', title: 'DR recovery instance without jobs', target: 'orders-instance', change: (i, all) => { setPath(i, ['settings', 'userLabels', 'lifeboat-role'], 'recovery-instance'); for (const n of ['jobs-orders-drill', 'schedules-orders-drill', 'jobs-orders-backup', 'schedules-orders-backup']) all.splice(all.findIndex((r) => r.name === n), 1); }, passes: true },
  { rule: 'stack-dr-region', title: 'DR copy inside the primary dual-region', target: 'dr-bucket', change: set(['location'], 'europe-west4') },
  { rule: 'stack-dr-region', title: 'DR copy in the same multi-region', target: 'dr-bucket', change: (i, all) => { i.location = 'EU'; all.find((r) => r.name === 'vault-bucket')!.inputs.location = 'europe-west1'; } },
  { rule: 'stack-dr-region', title: 'no DR copy', target: 'dr-bucket', change: (_i, all) => { all.splice(all.findIndex((r) => r.name === 'dr-bucket'), 1); }, reportedOn: 'vault-bucket', message: /no DR copy/ },
  { rule: 'stack-dr-region', title: 'DR location unknown at preview', target: 'dr-bucket', change: set(['location'], UNKNOWN_VALUE), passes: true },
  { rule: 'stack-non-ephemeral-hardening', title: 'forceDestroy on the backup bucket', target: 'vault-bucket', change: set(['forceDestroy'], true) },
  { rule: 'stack-non-ephemeral-hardening', title: 'retainBackupsOnDelete undefined', target: 'orders-instance', change: set(['settings', 'retainBackupsOnDelete'], undefined) },
  { rule: 'stack-non-ephemeral-hardening', title: 'forceDestroy in an ephemeral stack', target: 'vault-bucket', change: (i) => { i.forceDestroy = true; setPath(i, ['labels', 'lifeboat-ephemeral'], 'true'); }, passes: true },
];

defineRuleCases('gcp', gcpStack, cases);
