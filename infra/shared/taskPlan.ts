/**
 * The runner invocations a stack schedules, independent of the platform that runs them: ECS task definitions and
 * Kubernetes CronJobs are both built from this list, so the AWS and Kubernetes stacks run exactly the same commands.
 *
 * Secrets (database and Redis URLs) reach the runner only as environment variables filled from a secret store by the
 * platform (ECS `secrets`, Kubernetes `secretKeyRef`): never on a command line, where they would show in process
 * listings, task descriptions and Pulumi state.
 */
import { ENV } from '../../runner/contract/env';

/** The `pitr-*` kinds are built by pitrTasks.ts. `restore` and `redis-restore` run only in DR stacks
 * (infra/shared/recoveryPlan.ts), by hand, never on a schedule. */
export type RunnerTaskKind = 'backup' | 'drill' | 'redis-backup' | 'pitr-drill' | 'pitr-heartbeat' | 'pitr-archiving' | 'restore' | 'redis-restore';
/** Which identity runs a task: the writer (no delete), or the reader that also writes drill reports. */
export type RunnerIdentity = 'backup' | 'drill';

/** Environment variable names the runner reads: the runner's own contract module, so the two cannot drift. */
export const RUNNER_ENV = ENV;

/** The scratch directory the runner spools restores into (a writable volume on a read-only root filesystem). */
export const RUNNER_TMP_DIR = '/tmp';

/** The runner image's fixed non-root user (runner/Dockerfile). */
export const RUNNER_UID = 10001;

export interface RunnerTask {
  /** Unique per stack, safe in resource names: `<source>-backup`, `<source>-drill`, `<source>-redis-backup`. */
  id: string;
  kind: RunnerTaskKind;
  source: string;
  engine: 'postgres' | 'redis';
  identity: RunnerIdentity;
  /** Five-field cron in the stack's time zone. */
  schedule: string;
  /** Arguments after the image's `lifeboat` entrypoint. */
  args: string[];
  /** Plain (non-secret) environment. */
  env: Record<string, string>;
  /** Environment variable → secret name (the secret store's name; the platform resolves it). */
  secretEnv: Record<string, string>;
  /** Hard limit on one run. */
  timeoutSeconds: number;
}

export interface DatabaseTaskInput {
  name: string;
  schedule: string;
  drillSchedule: string;
  rpo: string;
  rto: string;
  amcheck: boolean;
  secrets: { databaseUrl: string; scratchUrl: string };
}

export interface RedisTaskInput {
  name: string;
  urlSecret: string;
  schedule: string;
  method: 'rdb' | 'dump';
}

export interface RunnerTasksInput {
  /** The runner's storage URL (`s3://bucket/root`, `gs://...`). */
  storageUrl: string;
  ageRecipients: string[];
  /** Secret holding the age identity drills decrypt encrypted backups with (needed when ageRecipients is set). */
  ageIdentitySecret?: string;
  databases: DatabaseTaskInput[];
  redis: RedisTaskInput[];
  /** Limit of a backup or Redis backup run. */
  backupTimeoutSeconds: number;
  /** Limit of a drill (a restore plus checks; longer than a dump). */
  drillTimeoutSeconds: number;
  /** The per-object lock of backup tasks (infra/shared/objectLock.ts). Default: none. */
  objectLockEnv?: Record<string, string>;
}

export function runnerTasks(input: RunnerTasksInput): RunnerTask[] {
  const common: Record<string, string> = { [RUNNER_ENV.storage]: input.storageUrl, [RUNNER_ENV.tmpDir]: RUNNER_TMP_DIR };
  if (input.ageRecipients.length) common[RUNNER_ENV.ageRecipients] = input.ageRecipients.join(',');
  const tasks: RunnerTask[] = [];
  const lock = input.objectLockEnv ?? {};
  for (const db of input.databases) {
    const env = { ...common, [RUNNER_ENV.source]: db.name };
    tasks.push({
      id: `${db.name}-backup`,
      kind: 'backup',
      source: db.name,
      engine: 'postgres',
      identity: 'backup',
      schedule: db.schedule,
      args: ['backup'],
      env: { ...env, ...lock },
      secretEnv: { [RUNNER_ENV.databaseUrl]: db.secrets.databaseUrl },
      timeoutSeconds: input.backupTimeoutSeconds,
    });
    tasks.push({
      id: `${db.name}-drill`,
      kind: 'drill',
      source: db.name,
      engine: 'postgres',
      identity: 'drill',
      schedule: db.drillSchedule,
      args: ['drill', '--backup', 'latest', '--rpo', db.rpo, '--rto', db.rto, ...(db.amcheck ? ['--amcheck'] : [])],
      env,
      // The drill reads backups from storage and restores into a scratch server; it never connects to the source.
      secretEnv: {
        [RUNNER_ENV.scratchUrl]: db.secrets.scratchUrl,
        ...(input.ageIdentitySecret ? { [RUNNER_ENV.ageIdentity]: input.ageIdentitySecret } : {}),
      },
      timeoutSeconds: input.drillTimeoutSeconds,
    });
  }
  for (const r of input.redis) {
    tasks.push({
      id: `${r.name}-redis-backup`,
      kind: 'redis-backup',
      source: r.name,
      engine: 'redis',
      identity: 'backup',
      schedule: r.schedule,
      args: ['redis', 'backup', '--method', r.method],
      env: { ...common, [RUNNER_ENV.source]: r.name, ...lock },
      secretEnv: { [RUNNER_ENV.redisUrl]: r.urlSecret },
      timeoutSeconds: input.backupTimeoutSeconds,
    });
  }
  const seen = new Set<string>();
  for (const t of tasks) {
    if (seen.has(t.id)) throw new Error(`two runner tasks are named "${t.id}": database and Redis names must differ`);
    seen.add(t.id);
  }
  return tasks;
}
