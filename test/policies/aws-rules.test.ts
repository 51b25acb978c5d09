import { defineRuleCases, type RuleCase } from './cases';
import { UNKNOWN_VALUE, setPath } from './fixtures/build';
import { awsStack } from './fixtures/aws';

const set = (path: (string | number)[], value: unknown) => (inputs: Record<string, unknown>) => setPath(inputs, path, value);
const remove = (name: string): RuleCase['change'] => (_i, all) => { all.splice(all.findIndex((r) => r.name === name), 1); };
const container = (change: (c: Record<string, unknown>) => void): RuleCase['change'] => (i) => {
  const defs = JSON.parse(i.containerDefinitions as string) as Record<string, unknown>[];
  change(defs[0]);
  i.containerDefinitions = JSON.stringify(defs);
};
const policy = (statements: unknown[]) => set(['policy'], JSON.stringify({ Version: '2012-10-17', Statement: statements }));

const restoreTask = (image: string): RuleCase['change'] => (i) => {
  i.tags = { ...(i.tags as Record<string, string>), 'lifeboat-task': 'restore' };
  container((c) => { c.image = image; })(i, []);
};
const PINNED = `123456789012.dkr.ecr.eu-central-1.amazonaws.com/lifeboat@sha256:${'0'.repeat(64)}`;

const cases: RuleCase[] = [
  { rule: 'ecs-restore-image-pinned', title: 'a DR restore task on a tag', target: 'tasks-orders-drill', change: restoreTask('123456789012.dkr.ecr.eu-central-1.amazonaws.com/lifeboat:latest'), message: /not an image pinned by digest/ },
  { rule: 'ecs-restore-image-pinned', title: 'a DR restore task on a truncated digest', target: 'tasks-orders-drill', change: restoreTask('123456789012.dkr.ecr.eu-central-1.amazonaws.com/lifeboat@sha256:abc') },
  { rule: 'ecs-restore-image-pinned', title: 'a DR restore task pinned by digest', target: 'tasks-orders-drill', change: restoreTask(PINNED), passes: true },
  { rule: 'ecs-restore-image-pinned', title: 'a scheduled backup task on a tag (not a DR restore)', target: 'tasks-orders-drill', change: container((c) => { c.image = 'lifeboat:latest'; }), passes: true },
  { rule: 's3-public-access-block', title: 'missing', target: 'vault-public-access', change: remove('vault-public-access'), reportedOn: 'vault-bucket' },
  { rule: 's3-public-access-block', title: 'restrictPublicBuckets undefined', target: 'vault-public-access', change: set(['restrictPublicBuckets'], undefined) },
  { rule: 's3-public-access-block', title: 'blockPublicPolicy false', target: 'dr-public-access', change: set(['blockPublicPolicy'], false) },
  { rule: 's3-public-access-block', title: 'flag unknown at preview', target: 'vault-public-access', change: set(['blockPublicAcls'], UNKNOWN_VALUE), passes: true },
  { rule: 's3-encryption', title: 'missing', target: 'vault-encryption', change: remove('vault-encryption'), reportedOn: 'vault-bucket' },
  { rule: 's3-encryption', title: 'SSE-S3 instead of KMS', target: 'vault-encryption', change: set(['rules', 0, 'applyServerSideEncryptionByDefault', 'sseAlgorithm'], 'AES256') },
  { rule: 's3-encryption', title: 'algorithm undefined', target: 'dr-encryption', change: set(['rules', 0, 'applyServerSideEncryptionByDefault'], undefined) },
  { rule: 's3-versioning', title: 'missing', target: 'vault-versioning', change: remove('vault-versioning'), reportedOn: 'vault-bucket' },
  { rule: 's3-versioning', title: 'suspended', target: 'vault-versioning', change: set(['versioningConfiguration', 'status'], 'Suspended') },
  { rule: 's3-versioning', title: 'status undefined', target: 'vault-versioning', change: set(['versioningConfiguration'], undefined) },
  { rule: 's3-lifecycle', title: 'missing', target: 'vault-lifecycle', change: remove('vault-lifecycle'), reportedOn: 'vault-bucket' },
  { rule: 's3-lifecycle', title: 'expiring rule disabled', target: 'vault-lifecycle', change: set(['rules', 0, 'status'], 'Disabled') },
  { rule: 's3-lifecycle', title: 'rules undefined', target: 'dr-lifecycle', change: set(['rules'], undefined) },
  { rule: 's3-object-lock', title: 'bucket created without Object Lock', target: 'vault-bucket', change: set(['objectLockEnabled'], undefined) },
  { rule: 's3-object-lock', title: 'no lock configuration', target: 'vault-object-lock', change: remove('vault-object-lock'), reportedOn: 'vault-bucket' },
  { rule: 's3-object-lock', title: 'default retention without a period', target: 'vault-object-lock', change: set(['rule', 'defaultRetention', 'days'], undefined) },
  { rule: 's3-object-lock', title: 'GOVERNANCE when COMPLIANCE is required', target: 'dr-object-lock', change: () => {}, opts: { config: { 's3-object-lock': { requireComplianceMode: true } } } },
  { rule: 's3-object-lock', title: 'no lock in an ephemeral stack (stack tag)', target: 'vault-object-lock', change: remove('vault-object-lock'), opts: { stackTags: { 'lifeboat:ephemeral': 'true' } }, passes: true },
  { rule: 'rds-backup-retention', title: 'too short', target: 'orders-instance', change: set(['backupRetentionPeriod'], 1) },
  { rule: 'rds-backup-retention', title: 'undefined', target: 'orders-instance', change: set(['backupRetentionPeriod'], undefined) },
  { rule: 'rds-backup-retention', title: 'unknown at preview', target: 'orders-instance', change: set(['backupRetentionPeriod'], UNKNOWN_VALUE), passes: true },
  { rule: 'rds-deletion-protection', title: 'off', target: 'orders-instance', change: set(['deletionProtection'], false) },
  { rule: 'rds-deletion-protection', title: 'undefined', target: 'orders-instance', change: set(['deletionProtection'], undefined) },
  { rule: 'aws-runner-no-broad-policies', title: 's3:* on the backup role', target: 'runner-backup-storage', change: policy([{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]) },
  { rule: 'aws-runner-no-broad-policies', title: 'AdministratorAccess attached', target: 'runner-backup-exec-managed', change: set(['policyArn'], 'arn:aws:iam::aws:policy/AdministratorAccess') },
  { rule: 'aws-runner-no-broad-policies', title: 'Allow with NotAction', target: 'runner-drill-storage', change: policy([{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }]) },
  { rule: 'aws-backup-identity-no-delete', title: 's3:DeleteObject allowed', target: 'runner-backup-storage', change: policy([{ Effect: 'Allow', Action: ['s3:PutObject', 's3:DeleteObject'], Resource: '*' }]), message: /s3:DeleteObject/ },
  { rule: 'aws-backup-identity-no-delete', title: 's3:Delete* wildcard', target: 'runner-backup-storage', change: policy([{ Effect: 'Allow', Action: 's3:Delete*', Resource: '*' }]) },
  { rule: 'aws-backup-identity-no-delete', title: 'lifecycle changes allowed', target: 'runner-backup-storage', change: policy([{ Effect: 'Allow', Action: 's3:PutLifecycleConfiguration', Resource: '*' }]) },
  { rule: 'aws-backup-identity-no-delete', title: 'delete on the drill role only', target: 'runner-drill-storage', change: () => {}, passes: true },
  { rule: 'aws-backup-identity-no-delete', title: 'policy unknown at preview', target: 'runner-backup-storage', change: set(['policy'], UNKNOWN_VALUE), passes: true },
  { rule: 'aws-runner-no-broad-policies', title: 'statement Action undefined', target: 'runner-drill-storage', change: policy([{ Effect: 'Allow', Resource: '*' }]), passes: true },
  { rule: 'aws-runner-no-broad-policies', title: 'managed policy ARN unknown at preview', target: 'runner-backup-exec-managed', change: set(['policyArn'], UNKNOWN_VALUE), passes: true },
  { rule: 'aws-backup-identity-no-delete', title: 'Allow with NotAction', target: 'runner-backup-storage', change: policy([{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }]), message: /s3:DeleteObject/ },
  { rule: 'aws-backup-identity-no-delete', title: 'policy undefined', target: 'runner-backup-storage', change: set(['policy'], undefined), passes: true },
  { rule: 'ecs-task-timeout', title: 'entryPoint undefined', target: 'tasks-orders-backup', change: container((c) => { delete c.entryPoint; }) },
  { rule: 'ecs-task-timeout', title: 'deadline above the threshold', target: 'tasks-orders-drill', change: container((c) => { c.entryPoint = ['timeout', '48h', 'node', 'cli.js']; }) },
  { rule: 'ecs-task-timeout', title: 'unreadable duration', target: 'tasks-orders-drill', change: container((c) => { c.entryPoint = ['timeout', 'forever', 'node']; }) },
  { rule: 'ecs-task-non-root', title: 'user undefined', target: 'tasks-orders-backup', change: container((c) => { delete c.user; }) },
  { rule: 'ecs-task-non-root', title: 'root', target: 'tasks-orders-drill', change: container((c) => { c.user = '0:0'; }) },
  { rule: 'ecs-task-no-plaintext-secrets', title: 'PGPASSWORD literal', target: 'tasks-orders-backup', change: container((c) => { c.environment = [{ name: 'PGPASSWORD', value: 'hunter2' }]; }) },
  { rule: 'ecs-task-no-plaintext-secrets', title: 'AWS key in an innocent name', target: 'tasks-orders-backup', change: container((c) => { c.environment = [{ name: 'EXTRA', value: 'AKIAABCDEFGHIJKLMNOP' }]; }) },
  { rule: 'ecs-task-no-plaintext-secrets', title: 'secret name that is only a reference', target: 'tasks-orders-backup', change: container((c) => { c.environment = [{ name: 'DATABASE_URL_SECRET_ARN', value: 'arn:aws:secretsmanager:eu-west-1:1:secret:x' }]; }), passes: true },
  { rule: 'ecs-task-no-plaintext-secrets', title: 'environment undefined', target: 'tasks-orders-backup', change: container((c) => { delete c.environment; }), passes: true },
  { rule: 'eventbridge-schedule-time-zone', title: 'empty', target: 'tasks-orders-drill-schedule', change: set(['scheduleExpressionTimezone'], ' ') },
  { rule: 'eventbridge-schedule-time-zone', title: 'undefined', target: 'tasks-orders-backup-schedule', change: set(['scheduleExpressionTimezone'], undefined) },
  { rule: 'eventbridge-schedule-time-zone', title: 'rate() needs no zone', target: 'tasks-orders-backup-schedule', change: (i) => { i.scheduleExpression = 'rate(1 day)'; delete i.scheduleExpressionTimezone; }, passes: true },
  { rule: 'stack-protected-database-coverage', title: 'backup schedule removed', target: 'tasks-orders-backup-schedule', change: remove('tasks-orders-backup-schedule'), reportedOn: 'orders-instance', message: /schedule for its backup job/ },
  { rule: 'stack-protected-database-coverage', title: 'failure alarm tag undefined', target: 'alerts-backup-failed', change: set(['tags'], undefined), reportedOn: 'orders-instance', message: /backup-failed alert/ },
  { rule: 'stack-dr-region', title: 'DR provider in the primary region', target: 'dr-provider', change: set(['region'], 'eu-west-1'), reportedOn: 'dr-bucket' },
  { rule: 'stack-dr-region', title: 'DR region input in the primary region', target: 'dr-bucket', change: set(['region'], 'eu-west-1') },
  { rule: 'stack-non-ephemeral-hardening', title: 'deleteAutomatedBackups undefined (provider default true)', target: 'orders-instance', change: set(['deleteAutomatedBackups'], undefined) },
  { rule: 'stack-non-ephemeral-hardening', title: 'skipFinalSnapshot', target: 'orders-instance', change: set(['skipFinalSnapshot'], true) },
  { rule: 'stack-non-ephemeral-hardening', title: 'forceDestroy on the DR bucket', target: 'dr-bucket', change: set(['forceDestroy'], true) },
  { rule: 'stack-ephemeral-not-production', title: 'a prod-tagged bucket tagged ephemeral (its Object Lock check would be skipped)', target: 'dr-bucket', change: (i) => { setPath(i, ['tags', 'lifeboat-environment'], 'prod'); setPath(i, ['tags', 'lifeboat-ephemeral'], 'true'); }, message: /production resources are never ephemeral/ },
];

defineRuleCases('aws', awsStack, cases);
