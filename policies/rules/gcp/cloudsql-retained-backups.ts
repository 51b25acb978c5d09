import { isPrimaryInstance, BACKUP_CONFIGURATION } from '../../lib/cloudsql';
import { T } from '../../lib/conventions';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at } from '../../lib/values';

export default resourcePolicy({
  name: 'cloudsql-retained-backups',
  platform: 'gcp',
  description: 'Cloud SQL instances keep at least minRetainedBackups automated backups (counted, not by time).',
  why: 'A corruption noticed late is only recoverable from a backup older than it; too few retained backups and the last good one is already gone.',
  fix: "Set settings.backupConfiguration.backupRetentionSettings { retainedBackups: N, retentionUnit: 'COUNT' }.",
  enforcementLevel: 'mandatory',
  config: { minRetainedBackups: { type: 'integer', minimum: 1, default: 7, description: 'Fewest automated backups to keep.' } },
  types: [T.sqlInstance],
  appliesTo: isPrimaryInstance,
  check: (r, cfg, report) => {
    const settings = at(r.props, ...BACKUP_CONFIGURATION, 'backupRetentionSettings');
    const count = at(settings, 'retainedBackups');
    const unit = at(settings, 'retentionUnit');
    if (count === UNKNOWN || unit === UNKNOWN) return;
    const min = cfg.minRetainedBackups as number;
    if (unit !== undefined && unit !== 'COUNT') return report(`backupRetentionSettings.retentionUnit is ${JSON.stringify(unit)}; only 'COUNT' is supported`);
    if (typeof count !== 'number') return report(`backupRetentionSettings.retainedBackups is not set; set it explicitly to at least ${min}`);
    if (count < min) report(`backupRetentionSettings.retainedBackups is ${count}, below ${min}`);
  },
});
