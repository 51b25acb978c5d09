import { T, isBackupBucket } from '../../lib/conventions';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at, toNumber } from '../../lib/values';

export default resourcePolicy({
  name: 'gcs-versioning-or-retention',
  platform: 'gcp',
  description: 'GCS backup buckets keep overwritten or deleted objects: versioning enabled or a retention policy of at least minRetentionDays.',
  why: 'A compromised or buggy writer could overwrite a backup in place; versioning or a retention policy keeps the original.',
  fix: 'Set retentionPolicy { retentionPeriod: "<seconds>" } (preferred, lockable) or versioning { enabled: true }.',
  enforcementLevel: 'mandatory',
  config: { minRetentionDays: { type: 'integer', minimum: 1, default: 7, description: 'Shortest acceptable retention policy, in days.' } },
  types: [T.gcsBucket],
  appliesTo: (r) => isBackupBucket(r.urn, r.labels),
  check: (r, cfg, report) => {
    const versioning = at(r.props, 'versioning', 'enabled');
    const period = at(r.props, 'retentionPolicy', 'retentionPeriod');
    if (versioning === true) return;
    if (versioning === UNKNOWN || period === UNKNOWN) return;
    const minSeconds = (cfg.minRetentionDays as number) * 86400;
    const seconds = toNumber(period);
    if (seconds === undefined) return report('neither versioning nor a retention policy is set');
    if (seconds < minSeconds) report(`retentionPolicy.retentionPeriod is ${seconds}s, below ${minSeconds}s (${cfg.minRetentionDays as number} days), and versioning is off`);
  },
});
