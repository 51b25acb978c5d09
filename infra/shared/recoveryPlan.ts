/**
 * The runner invocations of a DR stack (AWS and Kubernetes): one restore per database and one Redis restore per
 * Redis source, each reading the DR copy and writing into a recovery target named by a secret. They are built like
 * the scheduled tasks (taskPlan.ts), so ECS task definitions and CronJobs take them unchanged, but nothing
 * schedules them: the DR runbook starts each one once, by hand.
 *
 * A database is restored with `--create --roles`: the recovery server is new and has none of the application's
 * roles, and the application must connect after failover as its own role, to a database with its owners and
 * grants (what the backup's globals recorded). A Redis restore writes into an empty target and compares key counts.
 */
import { RUNNER_ENV, RUNNER_TMP_DIR, type RunnerTask } from './taskPlan';

/**
 * The schedule a recovery CronJob carries (Kubernetes requires one): 31 February never comes, and the CronJob is
 * suspended besides. On ECS the schedule is not used at all.
 */
export const NEVER_SCHEDULE = '0 0 31 2 *';

export interface RecoveryTasksInput {
  /** The DR copy, as the runner's storage URL (`s3://<dr bucket>[/<root>]`). */
  storageUrl: string;
  /** Secret holding the age identity (encrypted backups); it must exist in the recovery region. */
  ageIdentitySecret?: string;
  /** Per database: the secret holding the recovery target's URL (the database the restore creates). */
  databases: Array<{ name: string; targetUrlSecret: string }>;
  /** Per Redis source: the secret holding the recovery Redis URL. */
  redis: Array<{ name: string; targetUrlSecret: string }>;
  timeoutSeconds: number;
}

/** Task id of a database's DR restore, and of a Redis source's. */
export const restoreTaskId = (source: string) => `${source}-restore`;
export const redisRestoreTaskId = (source: string) => `${source}-redis-restore`;

export function recoveryTasks(input: RecoveryTasksInput): RunnerTask[] {
  const common = { [RUNNER_ENV.storage]: input.storageUrl, [RUNNER_ENV.tmpDir]: RUNNER_TMP_DIR };
  const age: Record<string, string> = input.ageIdentitySecret ? { [RUNNER_ENV.ageIdentity]: input.ageIdentitySecret } : {};
  const tasks: RunnerTask[] = [
    ...input.databases.map((d): RunnerTask => ({
      id: restoreTaskId(d.name),
      kind: 'restore',
      source: d.name,
      engine: 'postgres',
      identity: 'drill',
      schedule: NEVER_SCHEDULE,
      args: ['restore', 'latest', '--create', '--roles'],
      env: { ...common, [RUNNER_ENV.source]: d.name },
      secretEnv: { [RUNNER_ENV.targetUrl]: d.targetUrlSecret, ...age },
      timeoutSeconds: input.timeoutSeconds,
    })),
    ...input.redis.map((r): RunnerTask => ({
      id: redisRestoreTaskId(r.name),
      kind: 'redis-restore',
      source: r.name,
      engine: 'redis',
      identity: 'drill',
      schedule: NEVER_SCHEDULE,
      args: ['redis', 'restore', 'latest'],
      env: { ...common, [RUNNER_ENV.source]: r.name },
      secretEnv: { [RUNNER_ENV.redisUrl]: r.targetUrlSecret, ...age },
      timeoutSeconds: input.timeoutSeconds,
    })),
  ];
  const seen = new Set<string>();
  for (const t of tasks) {
    if (seen.has(t.id)) throw new Error(`two recovery tasks are named "${t.id}": database and Redis names must differ`);
    seen.add(t.id);
  }
  return tasks;
}
