import { LABEL } from '../../lib/conventions';
import { alertMarks, isScheduled, jobsFor, protectedDatabases } from '../../lib/coverage';
import { stackPolicy } from '../../lib/rule';

/**
 * Production databases prove their point-in-time recovery window: a managed instance has the stack's PITR drill
 * (a clone to an hour ago, checked and deleted) on a schedule; a self-hosted one has PITR turned on with its drill.
 * Both show up the same way: a job labelled `lifeboat-task: pitr-drill` for the database's source, run by a
 * schedule, and alerts on a failed and on a missing drill.
 */
export default stackPolicy({
  name: 'stack-pitr-drill',
  platform: 'stack',
  description:
    'In a production stack (a resource labelled lifeboat-environment prod, production, or either followed by "-"), every protected database has a scheduled point-in-time recovery drill and alerts when one fails or does not run.',
  why: 'PITR that was never exercised is a guess: the logs may not be retained, the clone may not come up, the recovery may take longer than the incident allows. The most common incident (a bad migration, a DELETE at 14:32) is exactly the one PITR exists for.',
  fix: 'Set lifeboat:pitr.enabled (and, on Kubernetes, lifeboat:pitr.drillImage) in the stack config; the stack then schedules the drill and its alerts. A database that cannot have one (e.g. PITR managed by another team) needs a waiver naming why.',
  enforcementLevel: 'mandatory',
  productionOnly: true,
  config: {
    productionEnvironments: {
      type: 'array',
      items: { type: 'string' },
      default: ['prod', 'production'],
      description: 'lifeboat-environment values that are production; a value followed by "-" and a qualifier (prod-eu) is too.',
    },
    requiredAlerts: {
      type: 'array',
      items: { type: 'string' },
      default: ['pitr-drill-failed', 'pitr-drill-missing'],
      description: 'lifeboat-alert kinds every database with a PITR drill must be covered by.',
    },
  },
  check: (stack, cfg, report) => {
    const production = (cfg.productionEnvironments as string[]).map((e) => e.toLowerCase());
    const isProduction = (env: string | undefined) => {
      const e = env?.toLowerCase();
      return e !== undefined && production.some((p) => e === p || e.startsWith(`${p}-`));
    };
    if (!stack.resources.some((r) => isProduction(r.labels[LABEL.environment]))) return;
    const marks = alertMarks(stack);
    for (const db of protectedDatabases(stack)) {
      const jobs = jobsFor(stack, db, 'pitr-drill');
      if (jobs.length === 0) {
        report(`database ${db.source} has no point-in-time recovery drill (no job labelled ${LABEL.task}: pitr-drill for it)`, db.subject);
        continue;
      }
      const missing: string[] = [];
      if (!jobs.some((j) => isScheduled(stack, j))) missing.push('a schedule for its PITR drill');
      for (const kind of cfg.requiredAlerts as string[]) {
        if (!marks.some((m) => m.kind === kind && (m.source === undefined || m.source === db.source))) missing.push(`a ${kind} alert`);
      }
      if (missing.length) report(`database ${db.source} has no ${missing.join(', no ')}`, db.subject);
    }
  },
});
