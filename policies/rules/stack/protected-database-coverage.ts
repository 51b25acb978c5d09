import { alertMarks, isScheduled, jobsFor, protectedDatabases } from '../../lib/coverage';
import { stackPolicy } from '../../lib/rule';

export default stackPolicy({
  name: 'stack-protected-database-coverage',
  platform: 'stack',
  description: 'Every protected database has a scheduled backup job, a scheduled drill job, and the required alerts (by default backup failed and backup stale).',
  why: 'A database with backups but no drill has backups nobody has proven restore; without failure and staleness alerts a broken schedule is noticed on the day of the restore.',
  fix: 'Add the database to the stack config with its dump and drill schedules; keep the Alerts component on. Label jobs and alerts as RULES.md (Conventions) says.',
  enforcementLevel: 'mandatory',
  config: {
    requiredAlerts: {
      type: 'array',
      items: { type: 'string' },
      default: ['backup-failed', 'backup-stale'],
      description: 'lifeboat-alert kinds every protected database must be covered by.',
    },
  },
  check: (stack, cfg, report) => {
    const marks = alertMarks(stack);
    for (const db of protectedDatabases(stack)) {
      const missing: string[] = [];
      for (const task of ['backup', 'drill'] as const) {
        const jobs = jobsFor(stack, db, task);
        if (jobs.length === 0) missing.push(`a ${task} job`);
        else if (!jobs.some((j) => isScheduled(stack, j))) missing.push(`a schedule for its ${task} job`);
      }
      for (const kind of cfg.requiredAlerts as string[]) {
        if (!marks.some((m) => m.kind === kind && (m.source === undefined || m.source === db.source))) missing.push(`a ${kind} alert`);
      }
      if (missing.length) report(`database ${db.source} has no ${missing.join(', no ')}`, db.subject);
    }
  },
});
