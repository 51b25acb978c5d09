import * as pulumi from '@pulumi/pulumi';
import * as gcp from '@pulumi/gcp';
import * as random from '@pulumi/random';
import type { DatabaseConfig, RedisConfig } from '../config/common';
import type { GcpSection } from '../config/gcp';
import { CloudSqlProtection } from './CloudSqlProtection';
import { RunnerIdentity } from './RunnerIdentity';
import { RunnerJobs, jobName, type JobSizing } from './RunnerJobs';
import { redisRestoreTask, restoreTask, storageUrl, type TaskSpec } from './taskSpecs';
import { lifeboatLabels } from './labels';

export interface RecoveryEnvironmentArgs {
  project: string;
  /** The DR region: where everything here is created. */
  region: string;
  prefix: string;
  image: string;
  /** The bucket with the DR copies. */
  backupBucket: string;
  storageRoot: string;
  databases: DatabaseConfig[];
  sizing: JobSizing;
  ageIdentitySecret?: string;
  /** Default: {}. */
  labels?: Record<string, string>;
  /** What provider functions and jobs wait for (the project's APIs). Default: []. */
  servicesReady?: pulumi.Resource[];
  /** Redis sources to recover: a Memorystore instance each, and a restore job. Default: []. */
  redis?: RedisConfig[];
  /** The VPC of the Memorystore instances and of the Redis restore jobs (required with redis). */
  network?: { network: string; subnetwork: string };
  /** Memorystore sizing. Default: STANDARD_HA, 1 GB, Redis 7.2. */
  memorystore?: GcpSection['memorystore'];
}

/** One Redis source's restore in the `dr` stack, as the `redisRestoreJobs` stack output describes it. */
export interface RedisRestoreJob {
  job: string;
  project: string;
  region: string;
  /** The Memorystore instance restored into. */
  instance: string;
  /** Secret holding the recovery instance's URL (`redis://:<auth>@<host>:<port>`): the application's new Redis URL. */
  recoveryUrlSecret: string;
}

/** One database's restore in the `dr` stack, as the `restoreJobs` stack output describes it. */
export interface RestoreJob {
  /** Cloud Run job name: `gcloud run jobs execute <job> --project <project> --region <region> --wait`. */
  job: string;
  project: string;
  region: string;
  /** The PostgreSQL database the restore creates on the recovery instance. */
  database: string;
  /** Cloud SQL connection name of the recovery instance. */
  connectionName: pulumi.Output<string>;
  /** Secret holding the recovery instance's connection URL (what the restore job writes to). */
  recoveryUrlSecret: string;
  /** The application's own database secret, when configured: a new version of it repoints the application. */
  applicationSecret?: string;
  /** The recovery Cloud SQL instance's name. */
  instance: string;
  /** The role the application logs in as, when configured. */
  applicationRole?: string;
  /** Secret holding the application's URL on the recovery instance (its own role, a password this stack made). */
  applicationUrlSecret?: string;
}

/** Name of the user the restore connects as on a recovery instance. */
export const RESTORE_USER = 'lifeboat_restore';

/**
 * The `dr` stack: per database, a recovery Cloud SQL instance in the DR region, a generated password (kept as a
 * Pulumi secret; written to Cloud SQL and Secret Manager through write-only fields, so neither resource stores
 * it), a secret with the recovery connection URL, and a restore job pointed at the newest backup in the DR bucket.
 */
export class RecoveryEnvironment extends pulumi.ComponentResource {
  /**
   * Per database: the command that runs the restore, the one that gives the application's role its new password
   * (after the restore created the role) and the one that repoints the application's secret.
   */
  readonly commands: Record<string, { restore: string; applicationPassword?: string; repointApplication?: string; connectionName: pulumi.Output<string> }> = {};
  /** Per database, as data (for scripts: no command text to parse): the restore job and the secrets around it. */
  readonly restoreJobs: Record<string, RestoreJob> = {};
  /** Per Redis source: its restore job and the recovery instance's URL secret. */
  readonly redisRestoreJobs: Record<string, RedisRestoreJob> = {};

  constructor(name: string, args: RecoveryEnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:gcp:RecoveryEnvironment', name, {}, opts);
    const redis = args.redis ?? [];
    if (args.databases.length === 0 && redis.length === 0) throw new pulumi.ResourceError(`RecoveryEnvironment ${name}: no databases or Redis to recover`, this);
    if (redis.length && !args.network) throw new pulumi.ResourceError(`RecoveryEnvironment ${name}: Redis recovery needs a network (lifeboat:gcp.recoveryNetwork)`, this);
    const storage = storageUrl(args.backupBucket, args.storageRoot);
    const urlSecrets: Record<string, gcp.secretmanager.Secret> = {};
    const connections: Record<string, pulumi.Output<string>> = {};
    const versions: pulumi.Resource[] = [];
    for (const db of args.databases) {
      if (!db.instance) throw new pulumi.ResourceError(`RecoveryEnvironment ${name}: database ${db.name} has no instance settings`, this);
      const sql = new CloudSqlProtection(`${name}-${db.name}`, {
        project: args.project,
        region: args.region,
        instance: { ...db.instance, mode: 'create', name: `${db.instance.name}-dr` },
        backup: db.managedBackup,
        deletionProtection: true,
        // Adopted by the stack that protects the recovered database; destroying this stack then leaves it running.
        handOver: true,
        // A restore target, not (yet) a protected database: the policy pack tells them apart by this role.
        labels: lifeboatLabels(args.labels ?? {}, false, { 'lifeboat-source': db.name, 'lifeboat-role': 'recovery-instance' }),
      }, { parent: this });
      connections[db.name] = sql.connectionName;
      const password = new random.RandomPassword(`${name}-${db.name}-password`, { length: 32, special: false }, { parent: this });
      new gcp.sql.User(`${name}-${db.name}-user`, {
        project: args.project,
        instance: sql.instance.name,
        name: RESTORE_USER,
        passwordWo: password.result,
        passwordWoVersion: 1,
        // It may own what a restore left behind; destroying this stack must not fail on (or drop) it.
      }, { parent: this, retainOnDelete: true });
      const secret = new gcp.secretmanager.Secret(`${name}-${db.name}-url`, {
        project: args.project,
        secretId: `${args.prefix}-${db.name}-recovery-url`,
        replication: { userManaged: { replicas: [{ location: args.region }] } },
        labels: lifeboatLabels(args.labels ?? {}, false, { 'lifeboat-source': db.name }),
      }, { parent: this });
      urlSecrets[db.name] = secret;
      versions.push(new gcp.secretmanager.SecretVersion(`${name}-${db.name}-url-v1`, {
        secret: secret.id,
        secretDataWo: pulumi.secret(pulumi.interpolate`postgresql://${RESTORE_USER}:${password.result}@/${db.database}?host=/cloudsql/${sql.connectionName}`),
        secretDataWoVersion: 1,
      }, { parent: this }));
      if (db.applicationRole) {
        // The application's own URL on the recovery instance: its own role (created by `restore --roles` from the
        // backup, with its grants), a new password made here. The password is set on the role after the restore
        // (applicationPassword command), since the role does not exist before it.
        const appPassword = new random.RandomPassword(`${name}-${db.name}-app-password`, { length: 32, special: false }, { parent: this });
        const appSecret = new gcp.secretmanager.Secret(`${name}-${db.name}-app-url`, {
          project: args.project,
          secretId: `${args.prefix}-${db.name}-application-url`,
          replication: { userManaged: { replicas: [{ location: args.region }] } },
          labels: lifeboatLabels(args.labels ?? {}, false, { 'lifeboat-source': db.name }),
        }, { parent: this });
        versions.push(new gcp.secretmanager.SecretVersion(`${name}-${db.name}-app-url-v1`, {
          secret: appSecret.id,
          secretDataWo: pulumi.secret(pulumi.interpolate`postgresql://${db.applicationRole}:${appPassword.result}@/${db.database}?host=/cloudsql/${sql.connectionName}`),
          secretDataWoVersion: 1,
        }, { parent: this }));
      }
    }
    // Redis: a Memorystore instance per source (AUTH on, reached over the VPC), its URL in a secret written from the
    // instance's outputs (the AUTH string never in plain state), and a `redis restore` job.
    const mem = args.memorystore ?? { tier: 'STANDARD_HA' as const, memorySizeGb: 1, redisVersion: 'REDIS_7_2' };
    const redisSecrets: string[] = [];
    for (const r of redis) {
      const instance = new gcp.redis.Instance(`${name}-${r.name}-redis`, {
        project: args.project,
        region: args.region,
        name: `${args.prefix}-${r.name}`.slice(0, 40).replace(/-+$/, ''),
        tier: mem.tier,
        memorySizeGb: mem.memorySizeGb,
        redisVersion: mem.redisVersion,
        authEnabled: true,
        authorizedNetwork: args.network!.network,
        connectMode: 'DIRECT_PEERING',
        labels: lifeboatLabels(args.labels ?? {}, false, { 'lifeboat-source': r.name, 'lifeboat-role': 'recovery-instance' }),
      }, { parent: this, retainOnDelete: true, additionalSecretOutputs: ['authString'] });
      const id = `${args.prefix}-${r.name}-recovery-url`;
      redisSecrets.push(id);
      const secret = new gcp.secretmanager.Secret(`${name}-${r.name}-redis-url`, {
        project: args.project,
        secretId: id,
        replication: { userManaged: { replicas: [{ location: args.region }] } },
        labels: lifeboatLabels(args.labels ?? {}, false, { 'lifeboat-source': r.name }),
      }, { parent: this });
      urlSecrets[r.name] = secret;
      versions.push(new gcp.secretmanager.SecretVersion(`${name}-${r.name}-redis-url-v1`, {
        secret: secret.id,
        secretDataWo: pulumi.secret(pulumi.interpolate`redis://:${instance.authString}@${instance.host}:${instance.port}`),
        secretDataWoVersion: 1,
      }, { parent: this }));
    }
    const secretIds = [...Object.values(args.databases).map((d) => `${args.prefix}-${d.name}-recovery-url`), ...redisSecrets];
    const identity = new RunnerIdentity(`${name}-identity`, {
      project: args.project,
      prefix: args.prefix,
      backup: false,
      scheduler: false,
      readBuckets: [args.backupBucket],
      storageRoot: args.storageRoot,
      restoreSecrets: [...secretIds, ...(args.ageIdentitySecret ? [args.ageIdentitySecret] : [])],
      instances: args.databases.map((d) => `${d.instance!.name}-dr`),
      // The Redis restore reaches Memorystore by URL over the VPC: no Cloud SQL client needed for it.
      secretsCreatedBy: Object.values(urlSecrets),
    }, { parent: this });
    new RunnerJobs(`${name}-jobs`, {
      project: args.project,
      region: args.region,
      prefix: args.prefix,
      image: args.image,
      tasks: [
        ...args.databases.map((d) => restoreTask(d, storage, `${args.prefix}-${d.name}-recovery-url`)),
        ...redis.map((r) => redisRestoreTask(r, storage, `${args.prefix}-${r.name}-recovery-url`)),
      ] satisfies TaskSpec[],
      network: args.network,
      identities: { restore: identity.restore.email },
      connectionNames: connections,
      sizing: args.sizing,
      ageIdentitySecret: args.ageIdentitySecret,
      labels: args.labels ?? {},
      after: [identity, ...versions],
      servicesReady: args.servicesReady,
    }, { parent: this });
    for (const d of args.databases) {
      const job = jobName(args.prefix, d.name, 'restore');
      const instance = `${d.instance!.name}-dr`;
      const appUrlSecret = d.applicationRole ? `${args.prefix}-${d.name}-application-url` : undefined;
      this.commands[d.name] = {
        restore: `gcloud run jobs execute ${job} --project ${args.project} --region ${args.region} --wait`,
        ...(appUrlSecret
          ? { applicationPassword: `.github/scripts/sql-role-password.sh ${args.project} ${instance} ${d.applicationRole} ${appUrlSecret}` }
          : {}),
        ...(d.secrets.application && appUrlSecret
          ? { repointApplication: `gcloud secrets versions access latest --secret ${appUrlSecret} --project ${args.project} | gcloud secrets versions add ${d.secrets.application} --project ${args.project} --data-file=-` }
          : {}),
        connectionName: connections[d.name]!,
      };
      this.restoreJobs[d.name] = {
        job,
        project: args.project,
        region: args.region,
        database: d.database,
        connectionName: connections[d.name]!,
        recoveryUrlSecret: `${args.prefix}-${d.name}-recovery-url`,
        instance,
        ...(d.secrets.application ? { applicationSecret: d.secrets.application } : {}),
        ...(appUrlSecret ? { applicationRole: d.applicationRole, applicationUrlSecret: appUrlSecret } : {}),
      };
    }
    for (const r of redis) {
      this.redisRestoreJobs[r.name] = {
        job: jobName(args.prefix, r.name, 'redis-restore'),
        project: args.project,
        region: args.region,
        instance: `${args.prefix}-${r.name}`.slice(0, 40).replace(/-+$/, ''),
        recoveryUrlSecret: `${args.prefix}-${r.name}-recovery-url`,
      };
    }
    this.registerOutputs({ commands: this.commands, restoreJobs: this.restoreJobs, redisRestoreJobs: this.redisRestoreJobs });
  }
}
