import { T } from '../../lib/conventions';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at } from '../../lib/values';

export default resourcePolicy({
  name: 'rds-backup-retention',
  platform: 'aws',
  description: 'RDS instances keep automated backups (and so point-in-time recovery) for at least minRetentionDays.',
  why: 'The retention period is the PITR window; 0 disables automated backups and PITR entirely.',
  fix: 'Set backupRetentionPeriod (1-35 days) and a backupWindow outside peak hours.',
  enforcementLevel: 'mandatory',
  config: { minRetentionDays: { type: 'integer', minimum: 1, default: 7, description: 'Shortest acceptable automated backup retention, in days.' } },
  types: [T.rdsInstance],
  // Read replicas have no automated backups of their own to configure here.
  appliesTo: (r) => {
    const source = at(r.props, 'replicateSourceDb');
    return source === undefined || source === '' || source === null;
  },
  check: (r, cfg, report) => {
    const days = at(r.props, 'backupRetentionPeriod');
    if (days === UNKNOWN) return;
    const min = cfg.minRetentionDays as number;
    if (typeof days !== 'number') return report(`backupRetentionPeriod is not set; set it explicitly to at least ${min}`);
    if (days < min) report(`backupRetentionPeriod is ${days}, below ${min}`);
  },
});
