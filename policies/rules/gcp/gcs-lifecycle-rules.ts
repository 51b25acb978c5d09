import { T, isBackupBucket } from '../../lib/conventions';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at, list } from '../../lib/values';

export default resourcePolicy({
  name: 'gcs-lifecycle-rules',
  platform: 'gcp',
  description: 'GCS backup buckets have lifecycle rules, at least one of which deletes expired backups.',
  why: 'Retention is done by lifecycle rules per class prefix so the backup identity never needs delete; without them backups pile up forever or someone grants delete to prune them.',
  fix: 'Add lifecycleRules with action { type: "Delete" } and a condition (age, matchesPrefix) per backup class.',
  enforcementLevel: 'mandatory',
  types: [T.gcsBucket],
  appliesTo: (r) => isBackupBucket(r.urn, r.labels),
  check: (r, _cfg, report) => {
    const rules = list(at(r.props, 'lifecycleRules'));
    if (rules === UNKNOWN) return;
    if (rules.length === 0) return report('the bucket has no lifecycleRules');
    if (rules.some((x) => x === UNKNOWN || at(x, 'action', 'type') === UNKNOWN)) return;
    if (!rules.some((x) => at(x, 'action', 'type') === 'Delete')) report('no lifecycle rule has action type Delete, so expired backups are never removed');
  },
});
