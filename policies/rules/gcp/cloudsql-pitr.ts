import { isPrimaryInstance, BACKUP_CONFIGURATION } from '../../lib/cloudsql';
import { T } from '../../lib/conventions';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at } from '../../lib/values';

export default resourcePolicy({
  name: 'cloudsql-pitr',
  platform: 'gcp',
  description: 'Cloud SQL instances have point-in-time recovery on.',
  why: 'Without PITR the best recovery point is the last nightly backup: up to a day of writes lost.',
  fix: 'Set settings.backupConfiguration.pointInTimeRecoveryEnabled: true.',
  enforcementLevel: 'mandatory',
  types: [T.sqlInstance],
  appliesTo: isPrimaryInstance,
  check: (r, _cfg, report) => {
    const v = at(r.props, ...BACKUP_CONFIGURATION, 'pointInTimeRecoveryEnabled');
    if (v === UNKNOWN) return;
    if (v !== true) report(`settings.backupConfiguration.pointInTimeRecoveryEnabled is ${JSON.stringify(v)}; it must be true`);
  },
});
