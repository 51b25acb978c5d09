import { T } from '../../lib/conventions';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at } from '../../lib/values';

export default resourcePolicy({
  name: 'eventbridge-schedule-time-zone',
  platform: 'aws',
  description: 'EventBridge Scheduler schedules with a cron() expression name their time zone.',
  why: 'A cron expression without a zone runs in UTC by default; if the team meant local time, daylight saving moves backups into peak hours.',
  fix: 'Set scheduleExpressionTimezone, e.g. "Etc/UTC" or "Europe/Paris".',
  enforcementLevel: 'mandatory',
  types: [T.awsSchedule],
  check: (r, _cfg, report) => {
    const expr = at(r.props, 'scheduleExpression');
    const tz = at(r.props, 'scheduleExpressionTimezone');
    if (expr === UNKNOWN || tz === UNKNOWN) return;
    if (typeof expr === 'string' && !expr.startsWith('cron(')) return; // rate() and at() have no zone to get wrong
    if (typeof tz !== 'string' || tz.trim() === '') report('scheduleExpressionTimezone is not set');
  },
});
