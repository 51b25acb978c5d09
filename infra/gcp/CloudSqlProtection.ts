import * as pulumi from '@pulumi/pulumi';
import * as gcp from '@pulumi/gcp';
import type { InstanceConfig, ManagedBackupConfig } from '../config/common';

export interface CloudSqlProtectionArgs {
  project: string;
  region: string;
  instance: InstanceConfig;
  backup: ManagedBackupConfig;
  /** Deletion protection (Pulumi and Cloud SQL API). Default: true. */
  deletionProtection?: boolean;
  /** Days the final backup taken on deletion is kept. Default: 30. */
  finalBackupRetentionDays?: number;
  /** Default: false. */
  ephemeral?: boolean;
  /**
   * Hand the instance over instead of protecting it in this stack: `pulumi destroy` forgets it and leaves it running
   * (retainOnDelete, no Pulumi `protect`; Cloud SQL's own deletion protection stays on). For the DR stack's
   * recovery instances, which the stack that protects the recovered database adopts. Default: false.
   */
  handOver?: boolean;
  /** Default: {}. */
  labels?: Record<string, string>;
}

/** Cloud SQL tier used when the config names none. */
export const DEFAULT_TIER = 'db-custom-1-3840';

/** The backup settings of an instance, as the provider's `settings.backupConfiguration` takes them. */
export function backupConfiguration(b: ManagedBackupConfig): gcp.types.input.sql.DatabaseInstanceSettingsBackupConfiguration {
  return {
    enabled: true,
    startTime: b.startTime,
    pointInTimeRecoveryEnabled: b.pointInTimeRecovery,
    // Cloud SQL for PostgreSQL (Enterprise edition) keeps 1-7 days of transaction logs; the config loader refuses
    // more, naming the key, rather than this quietly keeping fewer days than asked.
    transactionLogRetentionDays: b.transactionLogRetentionDays,
    backupRetentionSettings: { retainedBackups: b.retainedBackups, retentionUnit: 'COUNT' },
    ...(b.location ? { location: b.location } : {}),
  };
}

/** The settings Lifeboat manages on an adopted instance: its backups and what keeps them when it is deleted. */
export const ADOPT_MANAGED_SETTINGS = ['backupConfiguration', 'deletionProtectionEnabled', 'retainBackupsOnDelete', 'finalBackupConfig'] as const;

/**
 * Every other setting of `gcp.sql.DatabaseInstance.settings` (provider 9.x), left as the instance's owners set it.
 * test/infra checks this list against the provider's types, so a setting a provider upgrade adds is noticed.
 */
export const ADOPT_UNMANAGED_SETTINGS = [
  'activationPolicy', 'activeDirectoryConfig', 'advancedMachineFeatures', 'autoUpgradeEnabled', 'availabilityType', 'collation',
  'connectionPoolConfigs', 'connectorEnforcement', 'dataApiAccess', 'dataCacheConfig', 'dataDiskProvisionedIops',
  'dataDiskProvisionedThroughput', 'databaseFlags', 'denyMaintenancePeriod', 'diskAutoresize', 'diskAutoresizeLimit', 'diskSize',
  'diskType', 'edition', 'effectiveAvailabilityType', 'enableDataplexIntegration', 'enableGoogleMlIntegration', 'entraidConfig',
  'insightsConfig', 'ipConfiguration', 'locationPreference', 'maintenanceWindow', 'passwordValidationPolicy',
  'performanceCaptureConfig', 'pricingPlan', 'readPoolAutoScaleConfig', 'replicationLagMaxSeconds', 'sqlServerAuditConfig', 'tier',
  'timeZone', 'userLabels', 'version',
] as const;

/**
 * ignoreChanges of an adopted instance: everything but the managed settings, so neither an import nor the update
 * some Pulumi CLIs run right after it can reset flags, maintenance window, Query Insights, sizing or networking.
 */
export function adoptIgnoreChanges(): string[] {
  return [
    'databaseVersion', 'maintenanceVersion', 'encryptionKeyName', 'instanceType', 'masterInstanceName', 'replicaConfiguration', 'nodeCount',
    ...ADOPT_UNMANAGED_SETTINGS.map((k) => `settings.${k}`),
  ];
}

/**
 * One database's managed protection: the Cloud SQL instance, created or adopted (imported by name), with
 * automated backups, point-in-time recovery, deletion protection, and backups kept (plus a final backup) when the
 * instance is deleted. For an adopted instance only the backup settings (ADOPT_MANAGED_SETTINGS) are managed; every
 * other setting stays as its owners set it (ignoreChanges), whatever the config declares. Pulumi refuses an import
 * whose backup settings differ from the instance's and prints the difference, changing nothing.
 */
export class CloudSqlProtection extends pulumi.ComponentResource {
  readonly instance: gcp.sql.DatabaseInstance;
  readonly connectionName: pulumi.Output<string>;

  constructor(name: string, args: CloudSqlProtectionArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:gcp:CloudSqlProtection', name, {}, opts);
    if (!args.instance?.name) throw new pulumi.ResourceError(`CloudSqlProtection ${name}: instance.name is required`, this);
    if (!args.region) throw new pulumi.ResourceError(`CloudSqlProtection ${name}: region is required`, this);
    const ephemeral = args.ephemeral ?? false;
    const protect = args.deletionProtection ?? true;
    const adopt = args.instance.mode === 'adopt';
    this.instance = new gcp.sql.DatabaseInstance(`${name}-instance`, {
      project: args.project,
      name: args.instance.name,
      region: args.region,
      databaseVersion: `POSTGRES_${args.instance.postgresVersion}`,
      deletionProtection: protect,
      settings: {
        tier: args.instance.tier ?? DEFAULT_TIER,
        edition: 'ENTERPRISE',
        availabilityType: (args.instance.highAvailability ?? !ephemeral) ? 'REGIONAL' : 'ZONAL',
        diskSize: args.instance.diskSizeGb,
        diskAutoresize: true,
        backupConfiguration: backupConfiguration(args.backup),
        deletionProtectionEnabled: protect,
        retainBackupsOnDelete: !ephemeral,
        finalBackupConfig: { enabled: !ephemeral, retentionDays: args.finalBackupRetentionDays ?? 30 },
        // Reached only through the Cloud SQL connector (Cloud Run's /cloudsql socket): no authorized networks.
        ipConfiguration: { ipv4Enabled: true, sslMode: 'ENCRYPTED_ONLY', authorizedNetworks: [] },
        userLabels: { ...(args.labels ?? {}), 'lifeboat-ephemeral': ephemeral ? 'true' : 'false' },
      },
    }, {
      parent: this,
      protect: protect && !ephemeral && !args.handOver,
      ...(args.handOver ? { retainOnDelete: true } : {}),
      ...(adopt
        ? {
            import: `projects/${args.project}/instances/${args.instance.name}`,
            ignoreChanges: adoptIgnoreChanges(),
          }
        : {}),
    });
    this.connectionName = this.instance.connectionName;
    this.registerOutputs({ connectionName: this.connectionName });
  }
}
