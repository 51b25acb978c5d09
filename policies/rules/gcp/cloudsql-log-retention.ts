import { isPrimaryInstance, BACKUP_CONFIGURATION } from '../../lib/cloudsql';
import { T } from '../../lib/conventions';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at } from '../../lib/values';

export default resourcePolicy({
  name: 'cloudsql-log-retention',
  platform: 'gcp',
  description: 'Cloud SQL instances keep transaction logs for point-in-time recovery for at least minLogRetentionDays.',
  why: 'The PITR window is the transaction log retention; a short one means a mistake found on Monday cannot be undone to Friday.',
  fix: 'Set settings.backupConfiguration.transactionLogRetentionDays (1-7 on Enterprise, up to 35 on Enterprise Plus).',
  enforcementLevel: 'mandatory',
  config: { minLogRetentionDays: { type: 'integer', minimum: 1, default: 7, description: 'Shortest acceptable PITR window, in days.' } },
  types: [T.sqlInstance],
  appliesTo: isPrimaryInstance,
  check: (r, cfg, report) => {
    const days = at(r.props, ...BACKUP_CONFIGURATION, 'transactionLogRetentionDays');
    if (days === UNKNOWN) return;
    const min = cfg.minLogRetentionDays as number;
    if (typeof days !== 'number') return report(`transactionLogRetentionDays is not set; set it explicitly to at least ${min}`);
    if (days < min) report(`transactionLogRetentionDays is ${days}, below ${min}`);
  },
});
