/**
 * Environment variables the runner reads: the contract between the runner and every platform that runs it
 * (Cloud Run jobs, ECS tasks, Kubernetes CronJobs). The infra imports these names, and test/contract checks that
 * every variable a stack sets on a job is one the job's command actually reads, so the two cannot drift.
 *
 * Flags win over variables; secrets (URLs with passwords, age identities) should only ever come from variables
 * filled by the platform's secret store, never from flags that show up in process listings and job definitions.
 */
export const ENV = {
  storage: 'LIFEBOAT_STORAGE',
  s3Endpoint: 'LIFEBOAT_S3_ENDPOINT',
  source: 'LIFEBOAT_SOURCE',
  /** PostgreSQL connection URL of the database to back up (secret). */
  databaseUrl: 'DATABASE_URL',
  /** `restore` target (secret). */
  targetUrl: 'LIFEBOAT_TARGET_URL',
  /** `drill` scratch server (secret). */
  scratchUrl: 'LIFEBOAT_SCRATCH_URL',
  /** `redis backup|restore` server (secret). */
  redisUrl: 'LIFEBOAT_REDIS_URL',
  /** age recipients (public keys), comma- or whitespace-separated. */
  ageRecipients: 'LIFEBOAT_AGE_RECIPIENTS',
  /** Path of an age identity file. */
  ageIdentityFile: 'LIFEBOAT_AGE_IDENTITY_FILE',
  /** The age identity itself (secret), for platforms that inject secrets as variables rather than files. */
  ageIdentity: 'LIFEBOAT_AGE_IDENTITY',
  /** Where restores spool archives: a writable volume when the root filesystem is read-only. */
  tmpDir: 'LIFEBOAT_TMPDIR',
  logLevel: 'LIFEBOAT_LOG_LEVEL',
  preferReplica: 'LIFEBOAT_PREFER_REPLICA',
  maxLag: 'LIFEBOAT_MAX_LAG',
  /** `status`: a PostgreSQL server whose WAL archiving is judged too (secret). */
  archivingUrl: 'LIFEBOAT_ARCHIVING_URL',
  /** `pitr`: the folder holding pgBackRest's configuration per source. */
  pitrConfigDir: 'LIFEBOAT_PITR_CONFIG_DIR',
  /** `pitr`: the repository's cipher passphrase (secret), for init on an existing repository or a restore elsewhere. */
  pitrCipherPass: 'LIFEBOAT_PITR_CIPHER_PASS',
  /** Backups: lock each object for its class's retention, `governance` or `compliance` (runner/contract/object-lock.ts). */
  objectLock: 'LIFEBOAT_OBJECT_LOCK',
  /** Backups: retention days per class, `daily=7,weekly=35,monthly=400,yearly=2557,manual=90`: how long the lock holds. */
  retentionDays: 'LIFEBOAT_RETENTION_DAYS',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/** Variables every command reads whatever its flags (besides the cloud SDKs' own, e.g. AWS_REGION). */
export const GLOBAL_ENV: readonly EnvName[] = [ENV.tmpDir, ENV.logLevel];
