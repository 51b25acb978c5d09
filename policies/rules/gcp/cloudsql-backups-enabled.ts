import { isPrimaryInstance, BACKUP_CONFIGURATION } from '../../lib/cloudsql';
import { T } from '../../lib/conventions';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at } from '../../lib/values';

export default resourcePolicy({
  name: 'cloudsql-backups-enabled',
  platform: 'gcp',
  description: 'Cloud SQL instances have automated backups enabled.',
  why: 'Automated backups are the base that point-in-time recovery replays logs onto; without them there is no PITR at all.',
  fix: 'Set settings.backupConfiguration.enabled: true (and a startTime outside peak hours).',
  enforcementLevel: 'mandatory',
  types: [T.sqlInstance],
  appliesTo: isPrimaryInstance,
  check: (r, _cfg, report) => {
    const v = at(r.props, ...BACKUP_CONFIGURATION, 'enabled');
    if (v === UNKNOWN) return;
    if (v !== true) report(`settings.backupConfiguration.enabled is ${JSON.stringify(v)}; it must be true`);
  },
});
