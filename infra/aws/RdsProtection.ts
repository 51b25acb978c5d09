/**
 * lifeboat:aws:RdsProtection: the managed-backup side of one PostgreSQL RDS instance, created here or adopted.
 *
 * Sets the automated backup retention and window, deletion protection, copy of tags to snapshots, a final snapshot
 * and kept automated backups on delete, and replicates the automated backups (snapshots and transaction logs, so
 * point-in-time recovery works there too) into the DR region with a KMS key of that region.
 *
 * Adoption imports the existing instance (`import` resource option; current Pulumi CLIs import and then apply the
 * differences) and ignores every input but the backup settings and deletion protection (ADOPTED_OWNED_PROPERTIES),
 * so adopting changes nothing else: not the size, engine, network, credentials, parameter group, maintenance window,
 * Performance Insights, log exports, monitoring or tags. `retainOnDelete` keeps the instance when the stack is
 * destroyed.
 */
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';

export interface RdsInstanceSpec {
  /** `create`: the stack creates and owns it. `adopt`: it exists and is imported. */
  mode: 'create' | 'adopt';
  /** RDS DB instance identifier. */
  identifier: string;
  /** Instance class, e.g. db.t4g.medium. */
  instanceClass: string;
  /** PostgreSQL major version (created instances). Default: 16. */
  postgresVersion?: number;
  /** Storage in GB (created instances). Default: 20. */
  allocatedStorageGb?: number;
  /** Multi-AZ standby (created instances). Default: true. */
  multiAz?: boolean;
  /** Initial database name (created instances). */
  dbName?: string;
  subnetGroupName?: string;
  vpcSecurityGroupIds?: string[];
  /** Master user of created instances; its password is generated and kept by RDS in Secrets Manager. */
  masterUsername?: string;
  /**
   * Created instances: the master password, written through the write-only `passwordWo` (never in state), instead
   * of an RDS-managed one. For the DR stack's recovery instances, whose URL secret the stack writes itself.
   */
  masterPassword?: pulumi.Input<string>;
}

export interface RdsProtectionArgs {
  region: string;
  instance: RdsInstanceSpec;
  /** Days of automated backups (and point-in-time recovery) kept, 1-35. */
  backupRetentionDays: number;
  /** Daily backup window start, UTC "HH:MM"; the window lasts 30 minutes. */
  backupWindowStart: string;
  /** Default: true. */
  deletionProtection?: boolean;
  /** Ephemeral stacks: no final snapshot and automated backups deleted with the instance. Default: false. */
  ephemeral?: boolean;
  /** Replicate automated backups into this region (not the instance's). Default: no replication. */
  drRegion?: string;
  /** Days the DR replica of automated backups is kept. Default: backupRetentionDays. */
  drRetentionDays?: number;
  /** The Lifeboat source this instance backs (the `lifeboat-source` tag). */
  source?: string;
  tags?: Record<string, string>;
}

/** "01:00" → "01:00-01:30" (RDS windows are "hh24:mi-hh24:mi" in UTC, at least 30 minutes). */
export function backupWindow(start: string): string {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(start);
  if (!m) throw new Error(`backup window start: expected "HH:MM", got ${JSON.stringify(start)}`);
  const end = (Number(m[1]) * 60 + Number(m[2]) + 30) % (24 * 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${start}-${pad(Math.floor(end / 60))}:${pad(end % 60)}`;
}

/**
 * The inputs of an adopted instance that Lifeboat sets: the backup settings, deletion protection and what the
 * provider does on delete (final snapshot, keeping automated backups). `identifier` and `region` say which instance
 * it is, and `applyImmediately` how the change is applied (not a setting of the instance).
 */
export const ADOPTED_OWNED_PROPERTIES = [
  'identifier',
  'region',
  'applyImmediately',
  'backupRetentionPeriod',
  'backupWindow',
  'copyTagsToSnapshot',
  'deletionProtection',
  'deleteAutomatedBackups',
  'skipFinalSnapshot',
  'finalSnapshotIdentifier',
] as const;

/**
 * Every other input of `aws.rds.Instance` (@pulumi/aws 7): ignored on an adopted instance, so the import-then-update
 * of current Pulumi CLIs changes nothing else. A property left out here would be reset to the declared value or
 * the provider's default (log exports and Performance Insights switched off, monitoring set to 0, tags replaced);
 * the tests check this list against the provider's InstanceArgs, so a provider upgrade that adds an input fails
 * there first. `tags` are ignored too: Lifeboat's tags stay in the program (the policy pack reads them) but are not
 * written onto an instance it does not own.
 */
export const ADOPTED_IGNORED_PROPERTIES = [
  'allocatedStorage', 'allowMajorVersionUpgrade', 'autoMinorVersionUpgrade', 'availabilityZone', 'backupTarget',
  'blueGreenUpdate', 'caCertIdentifier', 'characterSetName', 'customIamInstanceProfile', 'customerOwnedIpEnabled',
  'databaseInsightsMode', 'dbName', 'dbSubnetGroupName', 'dedicatedLogVolume', 'domain', 'domainAuthSecretArn',
  'domainDnsIps', 'domainFqdn', 'domainIamRoleName', 'domainOu', 'enabledCloudwatchLogsExports', 'engine',
  'engineLifecycleSupport', 'engineVersion', 'iamDatabaseAuthenticationEnabled', 'identifierPrefix', 'instanceClass',
  'iops', 'kmsKeyId', 'licenseModel', 'maintenanceWindow', 'manageMasterUserPassword', 'masterUserSecretKmsKeyId',
  'maxAllocatedStorage', 'monitoringInterval', 'monitoringRoleArn', 'multiAz', 'ncharCharacterSetName', 'networkType',
  'optionGroupName', 'parameterGroupName', 'password', 'passwordWo', 'passwordWoVersion', 'performanceInsightsEnabled',
  'performanceInsightsKmsKeyId', 'performanceInsightsRetentionPeriod', 'port', 'publiclyAccessible', 'replicaMode',
  'replicateSourceDb', 'restoreToPointInTime', 'snapshotIdentifier', 'storageEncrypted', 'storageThroughput',
  'storageType', 'tags', 'timezone', 'upgradeStorageConfig', 'username', 'vpcSecurityGroupIds', 'warningEventCategories',
];

export class RdsProtection extends pulumi.ComponentResource {
  public readonly instance: aws.rds.Instance;
  public readonly instanceArn: pulumi.Output<string>;

  constructor(name: string, args: RdsProtectionArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:aws:RdsProtection', name, {}, opts);
    const spec = args.instance;
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(spec.identifier) || spec.identifier.endsWith('-') || spec.identifier.includes('--')) {
      throw new pulumi.ResourceError(`${name}: instance.identifier: expected an RDS identifier, got ${JSON.stringify(spec.identifier)}`, this);
    }
    if (!(Number.isInteger(args.backupRetentionDays) && args.backupRetentionDays >= 1 && args.backupRetentionDays <= 35)) {
      throw new pulumi.ResourceError(`${name}: backupRetentionDays: expected 1 to 35 (RDS's limit), got ${args.backupRetentionDays}`, this);
    }
    if (args.drRegion && args.drRegion === args.region) {
      throw new pulumi.ResourceError(`${name}: drRegion: expected a region other than ${args.region}, got the same`, this);
    }
    let window: string;
    try {
      window = backupWindow(args.backupWindowStart);
    } catch (e) {
      throw new pulumi.ResourceError(`${name}: ${(e as Error).message}`, this);
    }
    const ephemeral = args.ephemeral ?? false;
    const tags = { ...(args.tags ?? {}), ...(args.source ? { 'lifeboat-source': args.source } : {}) };
    const region = args.region;

    const protection = {
      backupRetentionPeriod: args.backupRetentionDays,
      backupWindow: window,
      deletionProtection: args.deletionProtection ?? true,
      copyTagsToSnapshot: true,
      // Keep automated backups after the instance is deleted (restorable until they expire), except in PR stacks.
      deleteAutomatedBackups: ephemeral,
      skipFinalSnapshot: ephemeral,
      ...(ephemeral ? {} : { finalSnapshotIdentifier: `${spec.identifier}-final` }),
    };
    if (spec.mode === 'create') {
      this.instance = new aws.rds.Instance(
        `${name}-instance`,
        {
          region,
          identifier: spec.identifier,
          engine: 'postgres',
          engineVersion: String(spec.postgresVersion ?? 16),
          instanceClass: spec.instanceClass,
          allocatedStorage: spec.allocatedStorageGb ?? 20,
          storageType: 'gp3',
          storageEncrypted: true,
          multiAz: spec.multiAz ?? true,
          dbName: spec.dbName,
          username: spec.masterUsername ?? 'lifeboat_admin',
          // RDS generates the password and keeps it in Secrets Manager: no password in config or state. A given
          // one (the DR stack's) goes through the write-only field, so it is not kept in state either.
          ...(spec.masterPassword === undefined
            ? { manageMasterUserPassword: true }
            : { passwordWo: pulumi.secret(spec.masterPassword), passwordWoVersion: 1 }),
          dbSubnetGroupName: spec.subnetGroupName,
          vpcSecurityGroupIds: spec.vpcSecurityGroupIds,
          publiclyAccessible: false,
          autoMinorVersionUpgrade: true,
          ...protection,
          tags,
        },
        { parent: this },
      );
    } else {
      this.instance = new aws.rds.Instance(
        `${name}-instance`,
        { region, identifier: spec.identifier, instanceClass: spec.instanceClass, engine: 'postgres', ...protection, applyImmediately: true, tags },
        { parent: this, import: spec.identifier, ignoreChanges: ADOPTED_IGNORED_PROPERTIES, retainOnDelete: true },
      );
    }
    if (args.drRegion) {
      // Encrypted instances need a key in the destination region for their replicated backups.
      const drKey = new aws.kms.Key(
        `${name}-dr-key`,
        { region: args.drRegion, description: `Lifeboat: DR copy of ${spec.identifier}'s automated backups`, enableKeyRotation: true, deletionWindowInDays: 30, tags },
        { parent: this },
      );
      new aws.rds.InstanceAutomatedBackupsReplication(
        `${name}-dr-backups`,
        {
          region: args.drRegion,
          sourceDbInstanceArn: this.instance.arn,
          kmsKeyId: drKey.arn,
          retentionPeriod: args.drRetentionDays ?? args.backupRetentionDays,
        },
        { parent: this },
      );
    }
    this.instanceArn = this.instance.arn;
    this.registerOutputs({ instanceArn: this.instanceArn });
  }
}
