/**
 * Platform adapter for GCP: turns the validated config into the components. `primary` stacks protect running
 * databases; `dr` stacks build the recovery environment in the DR region.
 */
import * as pulumi from '@pulumi/pulumi';
import type { LifeboatConfig } from '../config/load';
import type { GcpConfig } from '../config/gcp';
import { durationSeconds } from '../config/values';
import { Alerts } from '../gcp/Alerts';
import { BackupVault } from '../gcp/BackupVault';
import { CloudSqlProtection } from '../gcp/CloudSqlProtection';
import { DisasterRecovery } from '../gcp/DisasterRecovery';
import { RecoveryEnvironment } from '../gcp/RecoveryEnvironment';
import { RunnerIdentity } from '../gcp/RunnerIdentity';
import { RunnerJobs } from '../gcp/RunnerJobs';
import { ProjectServices, afterServices, requiredServices } from '../gcp/ProjectServices';
import { RunnerSecrets, type SecretSpec } from '../gcp/RunnerSecrets';
import { Schedules, type ScheduledJob } from '../gcp/Schedules';
import { STATUS_SCHEDULE, databaseTasks, redisTasks, storageUrl, type TaskSpec } from '../gcp/taskSpecs';
import type { LifecycleInput } from '../gcp/lifecycle';
import { objectLockEnv } from '../shared/objectLock';
import type { StackOutputs } from './types';
import { buildGcpPitr, gcpPitrRestoreSecrets, gcpPitrTasks } from './gcpPitr';
import { pitrScheduleOf } from '../gcp/pitrJobs';

/** Bucket names: `<project>-<prefix>-backups` (project ids are unique, so the name is too). */
export function bucketNames(cfg: LifeboatConfig, gcp: GcpConfig): { vault: string; dr: string } {
  const base = `${gcp.project}-${cfg.namePrefix}`.slice(0, 52);
  return { vault: `${base}-backups`, dr: `${base}-dr-backups` };
}

function baseLabels(cfg: LifeboatConfig): Record<string, string> {
  return { ...cfg.labels, 'lifeboat-environment': cfg.environment, 'managed-by': 'pulumi' };
}

export function build(cfg: LifeboatConfig): StackOutputs {
  const gcp = cfg.gcp;
  if (!gcp) throw new Error('platform gcp without a gcp section: the config loader should have refused this');
  return cfg.role === 'dr' ? buildRecovery(cfg, gcp) : buildPrimary(cfg, gcp);
}

function buildPrimary(cfg: LifeboatConfig, gcp: GcpConfig): StackOutputs {
  const labels = baseLabels(cfg);
  const hasTasks = cfg.databases.length + cfg.redis.length > 0;
  const services = new ProjectServices('apis', {
    project: gcp.project,
    services: requiredServices({ cloudSql: cfg.databases.length > 0, schedules: hasTasks, alerts: hasTasks, replication: !!cfg.drRegion }),
  });
  afterServices(services);
  const names = bucketNames(cfg, gcp);
  const lifecycle: LifecycleInput = { retentionDays: cfg.retentionDays, drillReportRetentionDays: cfg.drillReportRetentionDays, root: cfg.storageRoot };
  const vault = new BackupVault('vault', {
    project: gcp.project,
    bucketName: names.vault,
    location: gcp.bucketLocation,
    dualRegions: gcp.dualRegions,
    turboReplication: gcp.turboReplication,
    lifecycle,
    minimumRetentionDays: cfg.minimumRetentionDays,
    retentionLocked: cfg.retentionLocked,
    ephemeral: cfg.ephemeral,
    kmsKeyName: gcp.kmsKeyName,
    labels,
  });
  const storage = storageUrl(names.vault, cfg.storageRoot);

  const backupSecrets = [...cfg.databases.map((d) => d.secrets.databaseUrl), ...cfg.redis.map((r) => r.urlSecret)];
  const restoreSecrets = [...cfg.databases.map((d) => d.secrets.scratchUrl), ...(cfg.ageIdentitySecret ? [cfg.ageIdentitySecret] : []), ...gcpPitrRestoreSecrets(cfg)];
  // Every secret a recovery needs is created here, replicated to the DR region, values written out of band: the
  // runner's URLs, the age identity (without it in the DR region, encrypted backups cannot be restored there) and
  // the applications' database secrets (after a DR restore, the application's URL on the recovered database, with its
  // own role, becomes their new version).
  const replicas = [gcp.region, ...(cfg.drRegion ? [cfg.drRegion] : [])];
  // The application's secret is written during the outage it is for, and Secret Manager refuses a new version while
  // any replica's region is down: its only replica is in the DR region (the primary region when there is none).
  const applicationReplicas = cfg.drRegion ? [cfg.drRegion] : [gcp.region];
  const specs: SecretSpec[] = [
    ...cfg.databases.map((d) => ({ id: d.secrets.databaseUrl, replicas, purpose: `the URL ${d.name} backups connect with`, readByJobs: true })),
    ...cfg.redis.map((r) => ({ id: r.urlSecret, replicas, purpose: `the URL of Redis ${r.name}`, readByJobs: true })),
    ...cfg.databases.map((d) => ({ id: d.secrets.scratchUrl, replicas, purpose: `the URL of the server ${d.name} drills restore into`, readByJobs: true })),
    ...(cfg.ageIdentitySecret ? [{ id: cfg.ageIdentitySecret, replicas, purpose: 'the age identity drills and restores decrypt with', readByJobs: true }] : []),
    ...cfg.databases.flatMap((d) => (d.secrets.application
      ? [{ id: d.secrets.application, replicas: applicationReplicas, purpose: `the application's URL of ${d.name}`, readByJobs: false, role: 'application-secret' }]
      : [])),
  ];
  const secretIds = [...new Set(specs.map((x) => x.id))];
  const secrets = new RunnerSecrets('secrets', {
    project: gcp.project,
    secrets: specs,
    existing: gcp.existingSecrets,
    ephemeral: cfg.ephemeral,
    labels,
  });

  const protections: Record<string, CloudSqlProtection> = {};
  for (const db of cfg.databases) {
    protections[db.name] = new CloudSqlProtection(`db-${db.name}`, {
      project: gcp.project,
      region: gcp.region,
      instance: db.instance!,
      backup: db.managedBackup,
      deletionProtection: cfg.deletionProtection,
      ephemeral: cfg.ephemeral,
      labels: { ...labels, 'lifeboat-source': db.name },
    });
  }

  const identity = new RunnerIdentity('identity', {
    project: gcp.project,
    prefix: cfg.namePrefix,
    backupBucket: names.vault,
    storageRoot: cfg.storageRoot,
    backupSecrets,
    restoreSecrets,
    instances: cfg.databases.map((d) => d.instance!.name),
    secretsCreatedBy: [secrets],
    objectRetention: !cfg.ephemeral,
  }, { dependsOn: [vault] });

  // Each backup locked for its class (Unlocked = governance, Locked = compliance when the bucket is locked).
  const lock = objectLockEnv(cfg);
  const tasks: TaskSpec[] = [
    ...cfg.databases.flatMap((d) => databaseTasks(d, storage, cfg.ageRecipients, lock)),
    ...cfg.redis.flatMap((r) => redisTasks(r, storage, cfg.ageRecipients, lock)),
    ...gcpPitrTasks(cfg, gcp, storage),
  ];
  const jobs = new RunnerJobs('jobs', {
    project: gcp.project,
    region: gcp.region,
    prefix: cfg.namePrefix,
    image: cfg.runnerImage,
    tasks,
    identities: { backup: identity.backup!.email, restore: identity.restore.email },
    connectionNames: Object.fromEntries(Object.entries(protections).map(([k, p]) => [k, p.connectionName])),
    sizing: gcp.job,
    ageIdentitySecret: cfg.ageIdentitySecret,
    deletionProtection: cfg.deletionProtection,
    ephemeral: cfg.ephemeral,
    labels,
    // A job may only be created once `latest` of each secret it reads exists (the placeholders) and it may read it.
    after: [identity, ...secrets.firstVersions],
    servicesReady: services.services,
  });

  const scheduleOf = (t: TaskSpec): string => {
    if (t.task === 'status') return STATUS_SCHEDULE;
    const pitr = pitrScheduleOf(t.task, cfg.pitr);
    if (pitr) return pitr;
    const db = cfg.databases.find((d) => d.name === t.source);
    if (db) return t.task === 'drill' ? db.drillSchedule : db.schedule;
    return cfg.redis.find((r) => r.name === t.source)!.schedule;
  };
  const scheduled: ScheduledJob[] = tasks.map((t) => ({ key: `${t.source}-${t.task}`, job: jobs.jobs[`${t.source}-${t.task}`]!, schedule: scheduleOf(t) }));
  new Schedules('schedules', {
    project: gcp.project,
    region: gcp.region,
    timeZone: cfg.timeZone,
    schedulerEmail: identity.scheduler!.email,
    jobs: scheduled,
    retries: gcp.schedulerRetries,
  });

  let alerts: Alerts | undefined;
  if (tasks.length) {
    alerts = new Alerts('alerts', {
      project: gcp.project,
      region: gcp.region,
      prefix: cfg.namePrefix,
      storage,
      channels: cfg.alerts,
      labels,
      sources: [
        ...cfg.databases.map((d) => ({ source: d.name, engine: 'postgres' as const, sizeFloorBytes: d.sizeFloorBytes, slowAfterSeconds: durationSeconds(d.slowAfter), drills: true })),
        ...cfg.redis.map((r) => ({ source: r.name, engine: 'redis' as const, sizeFloorBytes: r.sizeFloorBytes, slowAfterSeconds: durationSeconds(r.slowAfter), drills: false })),
      ],
    });
  }
  buildGcpPitr(cfg, gcp, { tasks, drillServiceAccount: identity.restore.email, channels: alerts?.channelIds ?? [], labels });

  let dr: DisasterRecovery | undefined;
  if (cfg.drRegion) {
    dr = new DisasterRecovery('dr', {
      project: gcp.project,
      sourceBucket: names.vault,
      drBucketName: names.dr,
      drLocation: gcp.drBucketLocation ?? cfg.drRegion,
      lifecycle,
      minimumRetentionDays: cfg.minimumRetentionDays,
      retentionLocked: cfg.retentionLocked,
      ephemeral: cfg.ephemeral,
      kmsKeyName: gcp.drKmsKeyName,
      labels,
      pubSubGrants: true,
      servicesReady: services.services,
    }, { dependsOn: [vault] });
  }

  return {
    platform: 'gcp',
    environment: cfg.environment,
    bucket: vault.bucketName,
    storageUrl: storage,
    drBucket: dr?.drBucketName,
    drRegion: cfg.drRegion,
    serviceAccounts: { backup: identity.backup!.email, restore: identity.restore.email, scheduler: identity.scheduler!.email },
    jobs: Object.fromEntries(Object.entries(jobs.jobs).map(([k, j]) => [k, j.name])),
    cloudSqlConnections: Object.fromEntries(Object.entries(protections).map(([k, p]) => [k, p.connectionName])),
    secretsToFill: pulumi.output(secretIds.filter((id) => !gcp.existingSecrets.includes(id))),
    // The image this stack runs: the DR workflow restores with it (a runner that can read these backups).
    runnerImage: cfg.runnerImage,
  };
}

function buildRecovery(cfg: LifeboatConfig, gcp: GcpConfig): StackOutputs {
  const recovery = cfg.recovery!;
  const wanted = recovery.databases ? cfg.databases.filter((d) => recovery.databases!.includes(d.name)) : cfg.databases;
  const services = new ProjectServices('apis', {
    project: gcp.project,
    services: requiredServices({ cloudSql: wanted.length > 0, schedules: false, alerts: false, replication: false, memorystore: cfg.redis.length > 0 }),
  });
  afterServices(services);
  const env = new RecoveryEnvironment('recovery', {
    project: gcp.project,
    region: gcp.region,
    prefix: cfg.namePrefix,
    image: cfg.runnerImage,
    backupBucket: recovery.backupBucket,
    storageRoot: cfg.storageRoot,
    databases: wanted,
    sizing: gcp.job,
    ageIdentitySecret: cfg.ageIdentitySecret,
    labels: baseLabels(cfg),
    servicesReady: services.services,
    redis: cfg.redis,
    network: gcp.recoveryNetwork,
    memorystore: gcp.memorystore,
  });
  const restoreCommands = Object.fromEntries(Object.entries(env.commands).map(([k, c]) => [k, c.restore]));
  return {
    platform: 'gcp',
    role: 'dr',
    region: gcp.region,
    backupBucket: recovery.backupBucket,
    restoreCommands,
    // The same as data, for scripts (the DR workflow): job, project, region, database, secrets per database.
    restoreJobs: env.restoreJobs,
    // Per Redis source: the restore job into its recovery Memorystore instance and the secret with its URL.
    redisRestoreJobs: env.redisRestoreJobs,
    // The one command: restores every database (one job per database, run in turn, each waits for its result).
    restoreCommand: Object.values(restoreCommands).join(' && '),
    // Run after the restores: the restore creates the application's role, this gives it the password of its URL.
    applicationPasswordCommands: Object.fromEntries(Object.entries(env.commands).filter(([, c]) => c.applicationPassword).map(([k, c]) => [k, c.applicationPassword])),
    repointApplicationCommands: Object.fromEntries(Object.entries(env.commands).filter(([, c]) => c.repointApplication).map(([k, c]) => [k, c.repointApplication])),
    recoveryConnections: Object.fromEntries(Object.entries(env.commands).map(([k, c]) => [k, c.connectionName])),
    runnerImage: cfg.runnerImage,
  };
}
