import { T, isBackupBucket } from '../../lib/conventions';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at } from '../../lib/values';

export default resourcePolicy({
  name: 'gcs-retention-locked',
  platform: 'gcp',
  description: 'In non-ephemeral stacks, GCS backup buckets have a locked retention policy.',
  why: 'An unlocked retention policy can be shortened or removed by anyone with storage.buckets.update, and then the backups deleted; a locked one cannot be undone, even by the project owner.',
  fix: 'Set retentionPolicy { retentionPeriod, isLocked: true } (irreversible: lock once the period is right).',
  enforcementLevel: 'mandatory',
  productionOnly: true,
  types: [T.gcsBucket],
  appliesTo: (r) => isBackupBucket(r.urn, r.labels),
  check: (r, _cfg, report) => {
    const locked = at(r.props, 'retentionPolicy', 'isLocked');
    if (locked === UNKNOWN) return;
    if (locked !== true) report(`retentionPolicy.isLocked is ${JSON.stringify(locked)}; production backup buckets must be locked`);
  },
});
