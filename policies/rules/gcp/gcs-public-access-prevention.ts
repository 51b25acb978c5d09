import { T, isBackupBucket } from '../../lib/conventions';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at } from '../../lib/values';

export default resourcePolicy({
  name: 'gcs-public-access-prevention',
  platform: 'gcp',
  description: 'GCS backup buckets enforce public access prevention.',
  why: 'A backup is a full copy of the database; one public grant would publish it. Enforced prevention overrides any allUsers grant.',
  fix: "Set publicAccessPrevention: 'enforced' on the bucket.",
  enforcementLevel: 'mandatory',
  types: [T.gcsBucket],
  appliesTo: (r) => isBackupBucket(r.urn, r.labels),
  check: (r, _cfg, report) => {
    const v = at(r.props, 'publicAccessPrevention');
    if (v === UNKNOWN) return;
    if (v !== 'enforced') report(`publicAccessPrevention is ${JSON.stringify(v)}; it must be 'enforced'`);
  },
});
