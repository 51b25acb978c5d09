import { actionMatches, isBackupRole, rolePermissions, runnerRoles } from '../../lib/aws-iam';
import { stackPolicy } from '../../lib/rule';

/**
 * Actions that destroy backups or the protections around them. s3:PutObjectRetention is not among them: the
 * runner sets each backup's lock with it, and without s3:BypassGovernanceRetention a lock can only be lengthened.
 */
const DESTRUCTIVE = [
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:DeleteBucket',
  's3:PutLifecycleConfiguration',
  's3:PutBucketObjectLockConfiguration',
  's3:BypassGovernanceRetention',
  's3:PutBucketVersioning',
  's3:PutBucketPolicy',
];

export default stackPolicy({
  name: 'aws-backup-identity-no-delete',
  platform: 'aws',
  description: 'The backup role cannot delete objects or weaken the bucket protections (lifecycle, Object Lock, versioning, policy).',
  why: 'Ransomware and bugs that reach the backup task must not be able to destroy the backups; retention is done by lifecycle rules and Object Lock instead.',
  fix: 'Allow only s3:PutObject, s3:GetObject, s3:ListBucket, s3:AbortMultipartUpload, s3:PutObjectRetention (and the KMS actions) on the backup bucket.',
  enforcementLevel: 'mandatory',
  check: (stack, _cfg, report) => {
    for (const role of runnerRoles(stack).filter(isBackupRole)) {
      const perms = rolePermissions(stack, role);
      for (const m of perms.managedPolicyArns) {
        if (/AmazonS3FullAccess|AdministratorAccess|PowerUserAccess$/.test(m.arn)) report(`backup role ${role.name} has ${m.arn}, which includes s3:DeleteObject`, m.from);
      }
      for (const s of perms.statements) {
        if (s.effect !== 'Allow') continue;
        const granted = s.notAction
          ? DESTRUCTIVE.filter((d) => !s.actions.some((a) => actionMatches(a, d)))
          : DESTRUCTIVE.filter((d) => s.actions.some((a) => actionMatches(a, d)));
        if (granted.length) report(`backup role ${role.name} is allowed ${granted.join(', ')}`, s.from);
      }
    }
  },
});
