/**
 * The runner command lines and environments the jobs run: the `lifeboat` CLI's commands and flags (runner/cli/).
 * Non-secret options go on the command line, where an operator reading the job sees them; secrets only as env
 * references to secrets. The CLI also reads flags from `LIFEBOAT_<FLAG>` variables (runner/contract/env.ts):
 * `--scratch-url` from LIFEBOAT_SCRATCH_URL etc.
 */
import { ENV } from '../../runner/contract/env';
import type { DatabaseConfig, RedisConfig } from '../config/common';

/** The `pitr-*` kinds are built by pitrJobs.ts. */
export type TaskKind = 'backup' | 'drill' | 'redis-backup' | 'status' | 'restore' | 'redis-restore' | 'pitr-drill' | 'pitr-heartbeat';

export interface TaskSpec {
  /** Short role used in names: `<prefix>-<source>-<task>`. */
  task: TaskKind;
  source: string;
  args: string[];
  /** Plain env values (never secrets). */
  env: Record<string, string>;
  /** Env names → secret ids whose latest version the platform injects. */
  secretEnv: Record<string, string>;
  /** Which identity runs it. */
  identity: 'backup' | 'restore';
  /** Whether the task needs the Cloud SQL socket. */
  cloudSql: boolean;
  /** Whether the task reaches its server through the VPC (Memorystore). Default: false. */
  vpc?: boolean;
}

export function storageUrl(bucket: string, root: string): string {
  return root ? `gs://${bucket}/${root}` : `gs://${bucket}`;
}

function commonEnv(storage: string, source: string, ageRecipients: readonly string[]): Record<string, string> {
  return {
    [ENV.storage]: storage,
    [ENV.source]: source,
    ...(ageRecipients.length ? { [ENV.ageRecipients]: ageRecipients.join(',') } : {}),
  };
}

/** `objectLock`: the backup task's per-object lock variables (infra/shared/objectLock.ts); default none. */
export function databaseTasks(db: DatabaseConfig, storage: string, ageRecipients: readonly string[], objectLock: Record<string, string> = {}): TaskSpec[] {
  return [
    {
      task: 'backup',
      source: db.name,
      args: ['backup'],
      env: { ...commonEnv(storage, db.name, ageRecipients), ...objectLock },
      secretEnv: { [ENV.databaseUrl]: db.secrets.databaseUrl },
      identity: 'backup',
      cloudSql: true,
    },
    {
      task: 'drill',
      source: db.name,
      args: ['drill', '--backup', 'latest', '--rpo', db.rpo, '--rto', db.rto, ...(db.amcheck ? ['--amcheck'] : [])],
      env: commonEnv(storage, db.name, []),
      secretEnv: { [ENV.scratchUrl]: db.secrets.scratchUrl },
      identity: 'restore',
      cloudSql: true,
    },
    {
      task: 'status',
      source: db.name,
      args: ['status', '--max-age', db.maxAge, '--min-size', String(db.sizeFloorBytes)],
      env: commonEnv(storage, db.name, []),
      secretEnv: {},
      identity: 'restore',
      cloudSql: false,
    },
  ];
}

export function redisTasks(r: RedisConfig, storage: string, ageRecipients: readonly string[], objectLock: Record<string, string> = {}): TaskSpec[] {
  return [
    {
      task: 'redis-backup',
      source: r.name,
      args: ['redis', 'backup', '--method', r.method],
      env: { ...commonEnv(storage, r.name, ageRecipients), ...objectLock },
      secretEnv: { [ENV.redisUrl]: r.urlSecret },
      identity: 'backup',
      cloudSql: false,
    },
    {
      // Staleness of Redis backups: without it a Redis backup that silently stops running is never noticed.
      task: 'status',
      source: r.name,
      args: ['status', '--engine', 'redis', '--max-age', r.maxAge, '--min-size', String(r.sizeFloorBytes)],
      env: commonEnv(storage, r.name, []),
      secretEnv: {},
      identity: 'restore',
      cloudSql: false,
    },
  ];
}

/** The DR restore's command line (the DR workflow puts the chosen backup in place of `latest`). */
export const RESTORE_ARGS = ['restore', 'latest', '--create', '--roles'] as const;

/** The DR restore: newest backup in the DR bucket into the recovery instance (a fresh database is created). */
export function restoreTask(db: DatabaseConfig, storage: string, targetUrlSecret: string): TaskSpec {
  return {
    task: 'restore',
    source: db.name,
    // As the source was: the roles the backup recorded are created (the recovery instance has none of them), then
    // owners, grants, policies and the database's own properties. The restore user is not a superuser on Cloud
    // SQL; the runner makes it a member of each role it creates, which is what handing objects to them needs.
    args: [...RESTORE_ARGS],
    env: commonEnv(storage, db.name, []),
    secretEnv: { [ENV.targetUrl]: targetUrlSecret },
    identity: 'restore',
    cloudSql: true,
  };
}

/** The DR Redis restore: newest backup of the source in the DR bucket into the recovery Memorystore instance. */
export function redisRestoreTask(r: RedisConfig, storage: string, targetUrlSecret: string): TaskSpec {
  return {
    task: 'redis-restore',
    source: r.name,
    args: ['redis', 'restore', 'latest'],
    env: commonEnv(storage, r.name, []),
    secretEnv: { [ENV.redisUrl]: targetUrlSecret },
    identity: 'restore',
    cloudSql: false,
    vpc: true,
  };
}

/** Status runs hourly: it is what notices a backup that silently never ran. */
export const STATUS_SCHEDULE = '17 * * * *';
