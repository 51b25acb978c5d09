import { T } from '../../lib/conventions';
import { stackPolicy } from '../../lib/rule';
import { backupBuckets, companionsOf } from '../../lib/s3';
import { UNKNOWN, at, list } from '../../lib/values';

export default stackPolicy({
  name: 's3-encryption',
  platform: 'aws',
  description: 'Every S3 backup bucket has default encryption with a KMS key (SSE-KMS or DSSE-KMS).',
  why: 'With a KMS key, reading a backup needs kms:Decrypt as well as s3:GetObject: access is controlled and audited in two places, and disabling the key locks out a stolen credential.',
  fix: "Add aws.s3.BucketServerSideEncryptionConfiguration with applyServerSideEncryptionByDefault { sseAlgorithm: 'aws:kms', kmsMasterKeyId }.",
  enforcementLevel: 'mandatory',
  config: {
    allowedAlgorithms: { type: 'array', items: { type: 'string' }, default: ['aws:kms', 'aws:kms:dsse'], description: 'Accepted sseAlgorithm values.' },
  },
  check: (stack, cfg, report) => {
    const allowed = cfg.allowedAlgorithms as string[];
    for (const bucket of backupBuckets(stack)) {
      const configs = companionsOf(stack, bucket, T.s3Encryption);
      if (configs.length === 0) report('the backup bucket has no BucketServerSideEncryptionConfiguration', bucket);
      for (const c of configs) {
        const rules = list(at(c.props, 'rules'));
        if (rules === UNKNOWN) continue;
        const algos = rules.map((r) => at(r, 'applyServerSideEncryptionByDefault', 'sseAlgorithm'));
        if (algos.includes(UNKNOWN)) continue;
        if (!algos.some((a) => typeof a === 'string' && allowed.includes(a))) {
          report(`sseAlgorithm is ${JSON.stringify(algos.length === 1 ? algos[0] : algos)}; expected one of ${allowed.join(', ')}`, c);
        }
      }
    }
  },
});
