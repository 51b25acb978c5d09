import { T } from '../../lib/conventions';
import { stackPolicy } from '../../lib/rule';
import { backupBuckets, companionsOf } from '../../lib/s3';
import { UNKNOWN, at } from '../../lib/values';

export default stackPolicy({
  name: 's3-versioning',
  platform: 'aws',
  description: 'Every S3 backup bucket has versioning enabled.',
  why: 'Without versioning an overwrite replaces a backup for good; Object Lock and replication both require it too.',
  fix: "Add aws.s3.BucketVersioning { bucket, versioningConfiguration: { status: 'Enabled' } }.",
  enforcementLevel: 'mandatory',
  check: (stack, _cfg, report) => {
    for (const bucket of backupBuckets(stack)) {
      const versionings = companionsOf(stack, bucket, T.s3Versioning);
      if (versionings.length === 0) report('the backup bucket has no BucketVersioning', bucket);
      for (const v of versionings) {
        const status = at(v.props, 'versioningConfiguration', 'status');
        if (status !== UNKNOWN && status !== 'Enabled') report(`versioningConfiguration.status is ${JSON.stringify(status)}; it must be 'Enabled'`, v);
      }
    }
  },
});
