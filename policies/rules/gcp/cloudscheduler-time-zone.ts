import { T } from '../../lib/conventions';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at } from '../../lib/values';

export default resourcePolicy({
  name: 'cloudscheduler-time-zone',
  platform: 'gcp',
  description: 'Cloud Scheduler jobs name their time zone.',
  why: 'A cron expression without a zone runs in whatever the default is; daylight saving then moves or skips runs, and backup windows drift into peak hours.',
  fix: 'Set timeZone, e.g. "Etc/UTC" or "Europe/Paris".',
  enforcementLevel: 'mandatory',
  types: [T.cloudSchedulerJob],
  check: (r, _cfg, report) => {
    const tz = at(r.props, 'timeZone');
    if (tz === UNKNOWN) return;
    if (typeof tz !== 'string' || tz.trim() === '') report('timeZone is not set');
  },
});
