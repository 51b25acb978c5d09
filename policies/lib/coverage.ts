/**
 * What protects each database: its jobs (by task), the schedules that run them, and the alerts that watch them.
 * Links follow the conventions in RULES.md: `lifeboat-task` / `lifeboat-source` / `lifeboat-alert` labels (tags on
 * AWS), dependencies (a scheduler job depends on the job it runs), and names as a last resort.
 */
import { LABEL, ROLES, T } from './conventions';
import { ofType, type StackView, type Subject } from './rule';
import { at, isRecord, list, UNKNOWN } from './values';

export type Task = 'backup' | 'drill' | 'pitr-drill' | 'redis-backup' | 'other';

export const JOB_TYPES = [T.cloudRunJob, T.ecsTaskDefinition, T.cronJob];
const SCHEDULE_TYPES = [T.cloudSchedulerJob, T.awsSchedule];

export interface Database {
  subject: Subject;
  source: string;
}

export function taskOf(job: Subject): Task {
  const label = job.labels[LABEL.task];
  const text = (label ?? job.name).toLowerCase();
  if (/redis/.test(text)) return 'redis-backup';
  // A point-in-time recovery drill is not a restore drill of a backup: each has its own rule.
  if (/pitr/.test(text)) return /drill/.test(text) ? 'pitr-drill' : 'other';
  if (/drill/.test(text)) return 'drill';
  if (/backup/.test(text)) return 'backup';
  return 'other';
}

function isPrimaryDb(r: Subject): boolean {
  const replicaOf = r.type === T.sqlInstance ? at(r.props, 'masterInstanceName') : at(r.props, 'replicateSourceDb');
  return replicaOf === undefined || replicaOf === null || replicaOf === '';
}

/**
 * Protected databases: Cloud SQL / RDS primaries in the stack (not the DR stack's recovery instances), plus sources
 * that only appear on backup jobs (Kubernetes, where the database lives outside the stack).
 */
export function protectedDatabases(stack: StackView): Database[] {
  const dbs: Database[] = ofType(stack, T.sqlInstance, T.rdsInstance)
    .filter((r) => isPrimaryDb(r) && r.labels[LABEL.role] !== ROLES.recoveryInstance)
    .map((s) => ({ subject: s, source: s.labels[LABEL.source] ?? sourceOfDependents(stack, s) ?? sourceInName(stack, s) ?? s.name }));
  const known = new Set(dbs.map((d) => d.source));
  for (const job of ofType(stack, JOB_TYPES)) {
    const source = job.labels[LABEL.source];
    if (taskOf(job) === 'backup' && source && !known.has(source)) {
      known.add(source);
      dbs.push({ subject: job, source });
    }
  }
  return dbs;
}

/**
 * The source of an instance without Lifeboat's labels (an adopted one keeps its own labels: adoption changes
 * nothing but backup settings): the source label of the backup jobs that depend on it, when they agree.
 */
function sourceOfDependents(stack: StackView, db: Subject): string | undefined {
  const sources = new Set(
    ofType(stack, JOB_TYPES)
      .filter((j) => taskOf(j) === 'backup' && j.dependencies.includes(db.urn))
      .map((j) => j.labels[LABEL.source])
      .filter((s): s is string => typeof s === 'string'),
  );
  return sources.size === 1 ? [...sources][0] : undefined;
}

/**
 * The last resort for such an instance: the one backup source whose name is a dash-separated part of the
 * instance's resource name (the components name their children `<prefix>-<source>-...`).
 */
function sourceInName(stack: StackView, db: Subject): string | undefined {
  const parts = `-${db.name}-`;
  const sources = new Set(
    ofType(stack, JOB_TYPES)
      .filter((j) => taskOf(j) === 'backup')
      .map((j) => j.labels[LABEL.source])
      .filter((s): s is string => typeof s === 'string' && parts.includes(`-${s}-`)),
  );
  return sources.size === 1 ? [...sources][0] : undefined;
}

/** Jobs of a task for a database: same source label, or depending on the database resource. */
export function jobsFor(stack: StackView, db: Database, task: Task): Subject[] {
  return ofType(stack, JOB_TYPES).filter(
    (j) => taskOf(j) === task && (j.labels[LABEL.source] === db.source || j.dependencies.includes(db.subject.urn) || j === db.subject),
  );
}

/** Whether a job runs on a schedule: a CronJob is its own schedule; a scheduler resource depends on (or names) the job. */
export function isScheduled(stack: StackView, job: Subject): boolean {
  if (job.type === T.cronJob) return typeof at(job.props, 'spec', 'schedule') === 'string' || at(job.props, 'spec', 'schedule') === UNKNOWN;
  const jobName = at(job.props, 'name');
  const family = at(job.props, 'family');
  return ofType(stack, SCHEDULE_TYPES).some((s) => {
    if (s.dependencies.includes(job.urn)) return true;
    const uri = at(s.props, 'httpTarget', 'uri');
    if (typeof uri === 'string' && typeof jobName === 'string' && uri.includes(`/jobs/${jobName}:run`)) return true;
    const taskDef = at(s.props, 'target', 'ecsParameters', 'taskDefinitionArn');
    return typeof taskDef === 'string' && typeof family === 'string' && taskDef.includes(`:task-definition/${family}`);
  });
}

export interface AlertMark {
  kind: string;
  /** undefined: the alert covers every source. */
  source?: string;
}

/** Alert kinds present in the stack, from labels on alert policies / alarms and on PrometheusRule rules. */
export function alertMarks(stack: StackView): AlertMark[] {
  const out: AlertMark[] = [];
  for (const a of ofType(stack, T.alertPolicy, T.cloudwatchAlarm)) {
    const kind = a.labels[LABEL.alert];
    if (kind) out.push({ kind, source: a.labels[LABEL.source] });
  }
  for (const pr of ofType(stack, T.prometheusRule)) {
    const groups = list(at(pr.props, 'spec', 'groups'));
    if (groups === UNKNOWN) continue;
    for (const g of groups) {
      const rules = list(at(g, 'rules'));
      if (rules === UNKNOWN) continue;
      for (const r of rules) {
        const labels = at(r, 'labels');
        if (!isRecord(labels)) continue;
        const kind = labels[LABEL.alert];
        const source = labels[LABEL.source];
        if (typeof kind === 'string') out.push({ kind, source: typeof source === 'string' ? source : undefined });
      }
    }
  }
  return out;
}
