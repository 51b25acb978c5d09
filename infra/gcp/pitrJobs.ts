/**
 * The Cloud Run jobs of point-in-time recovery on GCP (lifeboat:pitr), as task specs for RunnerJobs, and their
 * schedules: `pitr drill --cloudsql <project>:<instance>` (a clone to `now - drillAgo`, checked, deleted) under
 * the restore identity, and `pitr heartbeat` through the Cloud SQL socket under the backup identity (which already
 * reads the database URL). The command lines are the shared ones (infra/shared/pitrTasks.ts).
 */
import { ENV } from '../../runner/contract/env';
import type { DatabaseConfig } from '../config/common';
import { everyAsCron, type PitrConfig } from '../config/pitr';
import { durationSeconds } from '../config/values';
import { pitrDrillArgs } from '../shared/pitrTasks';
import type { TaskSpec } from './taskSpecs';

/** `<project>:<instance>`, as `pitr drill --cloudsql` takes it. */
export function cloudSqlTarget(project: string, instance: string): string {
  return `${project}:${instance}`;
}

export function pitrJobSpecs(db: DatabaseConfig, project: string, pitr: PitrConfig, storage: string): TaskSpec[] {
  if (!pitr.enabled || !pitr.databases.includes(db.name) || !db.instance) return [];
  return [
    {
      task: 'pitr-drill',
      source: db.name,
      args: pitrDrillArgs({ kind: 'cloudsql', connection: cloudSqlTarget(project, db.instance.name) }, pitr, storage),
      env: { [ENV.source]: db.name },
      // The credentials and database name the clone is checked with; the clone is reached through the Admin API.
      secretEnv: { [ENV.databaseUrl]: db.secrets.databaseUrl },
      identity: 'restore',
      cloudSql: false,
    },
    {
      task: 'pitr-heartbeat',
      source: db.name,
      args: ['pitr', 'heartbeat'],
      env: {},
      secretEnv: { [ENV.databaseUrl]: db.secrets.databaseUrl },
      identity: 'backup',
      cloudSql: true,
    },
  ];
}

/** The schedule of a PITR job, or undefined for another task. */
export function pitrScheduleOf(task: TaskSpec['task'], pitr: PitrConfig): string | undefined {
  if (task === 'pitr-drill') return pitr.drillCron;
  if (task === 'pitr-heartbeat') {
    const expression = everyAsCron(durationSeconds(pitr.heartbeatEvery));
    if (!expression) throw new Error(`lifeboat:pitr.heartbeatEvery: expected minutes that divide an hour or hours that divide a day, got ${JSON.stringify(pitr.heartbeatEvery)}`);
    return expression;
  }
  return undefined;
}
