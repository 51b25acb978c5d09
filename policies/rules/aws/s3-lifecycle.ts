import { T } from '../../lib/conventions';
import { stackPolicy } from '../../lib/rule';
import { backupBuckets, companionsOf } from '../../lib/s3';
import { UNKNOWN, at, list } from '../../lib/values';

export default stackPolicy({
  name: 's3-lifecycle',
  platform: 'aws',
  description: 'Every S3 backup bucket has an enabled lifecycle rule that expires backups.',
  why: 'Retention is done by lifecycle rules per class prefix so the backup identity never needs delete; without them backups pile up forever or someone grants delete to prune them.',
  fix: "Add aws.s3.BucketLifecycleConfiguration with rules { status: 'Enabled', filter: { prefix }, expiration: { days } } per backup class.",
  enforcementLevel: 'mandatory',
  check: (stack, _cfg, report) => {
    for (const bucket of backupBuckets(stack)) {
      const configs = companionsOf(stack, bucket, T.s3Lifecycle);
      if (configs.length === 0) report('the backup bucket has no BucketLifecycleConfiguration', bucket);
      for (const c of configs) {
        const rules = list(at(c.props, 'rules'));
        if (rules === UNKNOWN) continue;
        if (rules.some((r) => r === UNKNOWN || at(r, 'status') === UNKNOWN)) continue;
        const expiring = rules.filter((r) => at(r, 'status') === 'Enabled' && (at(r, 'expiration') !== undefined || at(r, 'noncurrentVersionExpiration') !== undefined));
        if (expiring.length === 0) report('no enabled lifecycle rule has an expiration', c);
      }
    }
  },
});
