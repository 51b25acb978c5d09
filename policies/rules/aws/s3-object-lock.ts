import { T } from '../../lib/conventions';
import { stackPolicy } from '../../lib/rule';
import { backupBuckets, companionsOf } from '../../lib/s3';
import { UNKNOWN, at } from '../../lib/values';

export default stackPolicy({
  name: 's3-object-lock',
  platform: 'aws',
  description: 'In non-ephemeral stacks, every S3 backup bucket has Object Lock enabled with a default retention.',
  why: 'Object Lock is the only thing that stops an administrator (or a stolen admin credential) from deleting backups before they expire.',
  fix: "Create the bucket with objectLockEnabled: true and add aws.s3.BucketObjectLockConfiguration { rule: { defaultRetention: { mode, days } } }.",
  enforcementLevel: 'mandatory',
  productionOnly: true,
  config: { requireComplianceMode: { type: 'boolean', default: false, description: 'Refuse GOVERNANCE mode (which s3:BypassGovernanceRetention can override).' } },
  check: (stack, cfg, report) => {
    for (const bucket of backupBuckets(stack)) {
      const enabled = at(bucket.props, 'objectLockEnabled');
      if (enabled !== UNKNOWN && enabled !== true) report(`objectLockEnabled is ${JSON.stringify(enabled)}; it must be true (it can only be set when the bucket is created)`, bucket);
      const locks = companionsOf(stack, bucket, T.s3ObjectLock);
      if (locks.length === 0) report('the backup bucket has no BucketObjectLockConfiguration with a default retention', bucket);
      for (const lock of locks) {
        const retention = at(lock.props, 'rule', 'defaultRetention');
        if (retention === UNKNOWN) continue;
        const days = at(retention, 'days');
        const years = at(retention, 'years');
        const mode = at(retention, 'mode');
        if (days === UNKNOWN || years === UNKNOWN || mode === UNKNOWN) continue;
        if (typeof days !== 'number' && typeof years !== 'number') report('rule.defaultRetention has neither days nor years', lock);
        if (cfg.requireComplianceMode && mode !== 'COMPLIANCE') report(`rule.defaultRetention.mode is ${JSON.stringify(mode)}; COMPLIANCE is required`, lock);
      }
    }
  },
});
