/**
 * The point-in-time recovery tasks a stack schedules (lifeboat:pitr), as runner tasks of the same shape as
 * taskPlan.ts's, so ECS task definitions, EventBridge schedules and Kubernetes CronJobs are built for them by the
 * same components.
 *
 * Which task runs where follows what it needs:
 * - `pitr heartbeat` and `status --archiving-url` need only a connection to the database: a task anywhere.
 * - `pitr drill --rds | --cloudsql` (managed) needs the cloud's API and the database's credentials: a task anywhere.
 * - `pitr drill` (self-hosted) needs pgBackRest, the PostgreSQL server and the repository's configuration, but not
 *   the data directory: it restores from the repository into its own scratch folder. A task with a suitable image.
 * - `pitr backup` and WAL archiving need the data directory, the server's Unix socket and the cluster's OS user:
 *   they run beside the database (its host, or its pod), never here. See docs/pitr.md.
 */
import type { PitrConfig } from '../config/pitr';
import { everyAsCron } from '../config/pitr';
import { durationSeconds } from '../config/values';
import { RUNNER_ENV, RUNNER_TMP_DIR, type RunnerTask } from './taskPlan';

/** Where `pitr init` keeps pgBackRest's configuration (runner/pitr/config.ts's default); the drill CronJob mounts it there. */
export const PITR_CONFIG_DIR = '/etc/lifeboat/pitr';

/** How a database's PITR drill reaches its instance. */
export type PitrTarget = { kind: 'rds'; identifier: string } | { kind: 'cloudsql'; connection: string } | { kind: 'self-hosted' };

export interface PitrDatabaseInput {
  name: string;
  target: PitrTarget;
  secrets: { databaseUrl: string };
}

export interface PitrTasksInput {
  /** The stack's storage URL: managed drills write their reports under `drills/pitr/<source>/` there. */
  storageUrl: string;
  pitr: PitrConfig;
  databases: PitrDatabaseInput[];
  /** Limit of a drill run. */
  drillTimeoutSeconds: number;
  /** Whether this platform runs the self-hosted drill (Kubernetes, with lifeboat:pitr.drillImage). */
  selfHostedDrill: boolean;
}

/** The drill's command line for one database. */
export function pitrDrillArgs(target: PitrTarget, pitr: Pick<PitrConfig, 'drillAgo' | 'rpo' | 'rto'>, storageUrl: string): string[] {
  switch (target.kind) {
    case 'rds':
      return ['pitr', 'drill', '--rds', target.identifier, '--ago', pitr.drillAgo, '--storage', storageUrl];
    case 'cloudsql':
      return ['pitr', 'drill', '--cloudsql', target.connection, '--ago', pitr.drillAgo, '--storage', storageUrl];
    case 'self-hosted':
      // The repository and its storage come from the configuration `pitr init` wrote; RPO is the archive lag there.
      return ['pitr', 'drill', '--ago', pitr.drillAgo, '--rpo', pitr.rpo, '--rto', pitr.rto];
  }
}

function every(key: string, text: string): string {
  const expression = everyAsCron(durationSeconds(text));
  if (!expression) throw new Error(`lifeboat:pitr.${key}: expected minutes that divide an hour or hours that divide a day, got ${JSON.stringify(text)}`);
  return expression;
}

export function pitrTasks(input: PitrTasksInput): RunnerTask[] {
  const p = input.pitr;
  if (!p.enabled) return [];
  const tasks: RunnerTask[] = [];
  for (const db of input.databases.filter((d) => p.databases.includes(d.name))) {
    const selfHosted = db.target.kind === 'self-hosted';
    tasks.push({
      id: `${db.name}-pitr-heartbeat`,
      kind: 'pitr-heartbeat',
      source: db.name,
      engine: 'postgres',
      identity: 'backup',
      schedule: every('heartbeatEvery', p.heartbeatEvery),
      args: ['pitr', 'heartbeat'],
      env: { [RUNNER_ENV.tmpDir]: RUNNER_TMP_DIR },
      secretEnv: { [RUNNER_ENV.databaseUrl]: db.secrets.databaseUrl },
      // A heartbeat that hangs longer than its interval is as good as a missed one; the next run starts clean.
      timeoutSeconds: durationSeconds(p.heartbeatEvery),
    });
    if (selfHosted) {
      tasks.push({
        id: `${db.name}-pitr-archiving`,
        kind: 'pitr-archiving',
        source: db.name,
        engine: 'postgres',
        identity: 'drill',
        schedule: every('archivingCheckEvery', p.archivingCheckEvery),
        // No storage: `status` then judges WAL archiving alone (exit 1 when it failed or lags past the RPO).
        args: ['status', '--max-archive-lag', p.rpo],
        env: { [RUNNER_ENV.tmpDir]: RUNNER_TMP_DIR },
        secretEnv: { [RUNNER_ENV.archivingUrl]: db.secrets.databaseUrl },
        timeoutSeconds: durationSeconds(p.archivingCheckEvery),
      });
    }
    if (selfHosted && !input.selfHostedDrill) continue;
    tasks.push({
      id: `${db.name}-pitr-drill`,
      kind: 'pitr-drill',
      source: db.name,
      engine: 'postgres',
      identity: 'drill',
      schedule: p.drillCron,
      args: pitrDrillArgs(db.target, p, input.storageUrl),
      env: {
        [RUNNER_ENV.source]: db.name,
        [RUNNER_ENV.tmpDir]: RUNNER_TMP_DIR,
        ...(selfHosted ? { [RUNNER_ENV.pitrConfigDir]: PITR_CONFIG_DIR } : {}),
      },
      // DATABASE_URL: the credentials and database name the clone is checked with (managed), or the source whose
      // archiver the drill judges (self-hosted).
      secretEnv: { [RUNNER_ENV.databaseUrl]: db.secrets.databaseUrl },
      timeoutSeconds: input.drillTimeoutSeconds,
    });
  }
  return tasks;
}
