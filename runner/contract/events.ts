/**
 * The runner's log contract. Every run ends with exactly one structured log line whose `event` field is one
 * of these names. The infra builds log-based metrics, metric filters and alerts on exactly these names and
 * fields, so both sides import them from here and cannot drift apart.
 */

export const EVENTS = {
  backupSucceeded: 'backup.succeeded',
  backupFailed: 'backup.failed',
  restoreSucceeded: 'restore.succeeded',
  restoreFailed: 'restore.failed',
  verifySucceeded: 'verify.succeeded',
  verifyFailed: 'verify.failed',
  drillSucceeded: 'drill.succeeded',
  drillFailed: 'drill.failed',
  pruneSucceeded: 'prune.succeeded',
  pruneFailed: 'prune.failed',
  statusHealthy: 'status.healthy',
  statusUnhealthy: 'status.unhealthy',
  listSucceeded: 'list.succeeded',
  listFailed: 'list.failed',
  cloneSucceeded: 'clone.succeeded',
  cloneFailed: 'clone.failed',
  redisBackupSucceeded: 'redis.backup.succeeded',
  redisBackupFailed: 'redis.backup.failed',
  redisRestoreSucceeded: 'redis.restore.succeeded',
  redisRestoreFailed: 'redis.restore.failed',
  redisVerifySucceeded: 'redis.verify.succeeded',
  redisVerifyFailed: 'redis.verify.failed',
  /** The scheduler daemon stopped as asked (SIGTERM); each job's runs end with their own command's events. */
  scheduleStopped: 'schedule.stopped',
  scheduleFailed: 'schedule.failed',
  reportSucceeded: 'report.succeeded',
  reportFailed: 'report.failed',
  pitrInitSucceeded: 'pitr.init.succeeded',
  pitrInitFailed: 'pitr.init.failed',
  pitrBackupSucceeded: 'pitr.backup.succeeded',
  pitrBackupFailed: 'pitr.backup.failed',
  pitrRestoreSucceeded: 'pitr.restore.succeeded',
  pitrRestoreFailed: 'pitr.restore.failed',
  pitrDrillSucceeded: 'pitr.drill.succeeded',
  pitrDrillFailed: 'pitr.drill.failed',
  pitrHeartbeatSucceeded: 'pitr.heartbeat.succeeded',
  pitrHeartbeatFailed: 'pitr.heartbeat.failed',
} as const;

export type EventName = (typeof EVENTS)[keyof typeof EVENTS];

export const ALL_EVENT_NAMES: readonly EventName[] = Object.values(EVENTS);

/** Events that mean "a backup of some engine failed": alerting on any of them pages. */
export const BACKUP_FAILURE_EVENTS: readonly EventName[] = [EVENTS.backupFailed, EVENTS.redisBackupFailed];
/** Events that mean "a backup of some engine was published". Staleness alerts are built on their absence. */
export const BACKUP_SUCCESS_EVENTS: readonly EventName[] = [EVENTS.backupSucceeded, EVENTS.redisBackupSucceeded];

/**
 * Field names of the final event line. Log-based metrics extract values from `jsonPayload.<field>` (GCP) or
 * `$.<field>` (CloudWatch), so these names are part of the contract too.
 */
export const EVENT_FIELDS = {
  event: 'event',
  /** Cloud Logging reads the level from `severity`. */
  severity: 'severity',
  /** Cloud Logging reads the text from `message`. */
  message: 'message',
  source: 'source',
  engine: 'engine',
  backupClass: 'class',
  backupId: 'backupId',
  /** Stored (compressed, possibly encrypted) size of the payload in bytes. */
  bytes: 'bytes',
  rawBytes: 'rawBytes',
  durationSeconds: 'durationSeconds',
  /** Drills: seconds between now and the snapshot time of the newest complete backup. */
  rpoSeconds: 'rpoSeconds',
  /** Drills: wall time of the restore in seconds. */
  rtoSeconds: 'rtoSeconds',
  rpoTargetSeconds: 'rpoTargetSeconds',
  rtoTargetSeconds: 'rtoTargetSeconds',
  /** Drills: true when every check and target passed. */
  passed: 'passed',
  errorCode: 'errorCode',
  exitCode: 'exitCode',
  /** `restore --table --clean`: the target's foreign keys into the replaced tables left out ("schema.table.name"). */
  foreignKeysSkipped: 'foreignKeysSkipped',
} as const;

/** Severity values as Cloud Logging understands them. */
export const SEVERITY = {
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
} as const;
