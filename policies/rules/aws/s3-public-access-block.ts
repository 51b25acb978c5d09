import { T } from '../../lib/conventions';
import { stackPolicy } from '../../lib/rule';
import { backupBuckets, companionsOf } from '../../lib/s3';
import { UNKNOWN, at } from '../../lib/values';

const FLAGS = ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'] as const;

export default stackPolicy({
  name: 's3-public-access-block',
  platform: 'aws',
  description: 'Every S3 backup bucket has a public access block with all four settings on.',
  why: 'A single public bucket policy or ACL would publish every backup; the block refuses both, whatever policy is attached later.',
  fix: 'Add aws.s3.BucketPublicAccessBlock { bucket, blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets: true }.',
  enforcementLevel: 'mandatory',
  check: (stack, _cfg, report) => {
    for (const bucket of backupBuckets(stack)) {
      const blocks = companionsOf(stack, bucket, T.s3PublicAccessBlock);
      if (blocks.length === 0) report('the backup bucket has no BucketPublicAccessBlock', bucket);
      for (const block of blocks) {
        for (const flag of FLAGS) {
          const v = at(block.props, flag);
          if (v !== UNKNOWN && v !== true) report(`${flag} is ${JSON.stringify(v)}; it must be true`, block);
        }
      }
    }
  },
});
