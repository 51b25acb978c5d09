import { T, isBackupBucket } from '../../lib/conventions';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at } from '../../lib/values';

export default resourcePolicy({
  name: 'gcs-uniform-access',
  platform: 'gcp',
  description: 'GCS backup buckets use uniform bucket-level access.',
  why: 'With per-object ACLs an object can be shared outside IAM, where no audit and no policy sees it.',
  fix: 'Set uniformBucketLevelAccess: true on the bucket.',
  enforcementLevel: 'mandatory',
  types: [T.gcsBucket],
  appliesTo: (r) => isBackupBucket(r.urn, r.labels),
  check: (r, _cfg, report) => {
    const v = at(r.props, 'uniformBucketLevelAccess');
    if (v === UNKNOWN) return;
    if (v !== true) report(`uniformBucketLevelAccess is ${JSON.stringify(v)}; it must be true`);
  },
});
