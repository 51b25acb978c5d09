import * as pulumi from '@pulumi/pulumi';
import * as gcp from '@pulumi/gcp';
import { lifecycleRules, noncurrentCleanupRule, retentionPeriodSeconds, type LifecycleInput } from './lifecycle';
import { lifeboatLabels } from './labels';

export interface BackupVaultArgs {
  project: string;
  /** Bucket name (globally unique). */
  bucketName: string;
  /** Multi-region, dual-region code, or (for the DR copy) a region. */
  location: string;
  /** Regions of a configurable dual-region. Default: none. */
  dualRegions?: [string, string];
  /** Turbo replication between a dual-region's regions. Default: false. */
  turboReplication?: boolean;
  /** Retention per class and the storage root: the lifecycle rules. */
  lifecycle: LifecycleInput;
  /** No object can be deleted or replaced before this many days. Ignored in ephemeral stacks (no retention policy). */
  minimumRetentionDays: number;
  /** Lock the retention policy (irreversible). Default: false. */
  retentionLocked?: boolean;
  /** Pull-request stacks: force destroy, no retention policy (versioning instead). Default: false. */
  ephemeral?: boolean;
  /** CMEK key (in the bucket's location). Default: Google-managed encryption. */
  kmsKeyName?: string;
  /** `backup-vault` or `dr-vault` (policy pack convention). Default: `backup-vault`. */
  role?: 'backup-vault' | 'dr-vault';
  /** Default: {}. */
  labels?: Record<string, string>;
}

/** The hardened bucket that holds backups: retention by lifecycle per class prefix, locked against early deletion. */
export class BackupVault extends pulumi.ComponentResource {
  readonly bucket: gcp.storage.Bucket;
  readonly bucketName: pulumi.Output<string>;

  constructor(name: string, args: BackupVaultArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:gcp:BackupVault', name, {}, opts);
    if (!args.bucketName || !/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(args.bucketName)) {
      throw new pulumi.ResourceError(`BackupVault ${name}: bucketName must be a valid bucket name, got ${JSON.stringify(args.bucketName)}`, this);
    }
    if (!args.location) throw new pulumi.ResourceError(`BackupVault ${name}: location is required`, this);
    if (!(args.minimumRetentionDays > 0)) {
      throw new pulumi.ResourceError(`BackupVault ${name}: minimumRetentionDays must be above 0, got ${args.minimumRetentionDays}`, this);
    }
    const ephemeral = args.ephemeral ?? false;
    const dependsOn: pulumi.Resource[] = [];
    if (args.kmsKeyName) {
      // Cloud Storage encrypts with the project's storage service agent: it needs the key before the bucket exists.
      const agent = gcp.storage.getProjectServiceAccountOutput({ project: args.project }, { parent: this });
      dependsOn.push(
        new gcp.kms.CryptoKeyIAMMember(`${name}-kms`, {
          cryptoKeyId: args.kmsKeyName,
          role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter',
          member: pulumi.interpolate`serviceAccount:${agent.emailAddress}`,
        }, { parent: this }),
      );
    }
    this.bucket = new gcp.storage.Bucket(`${name}-bucket`, {
      project: args.project,
      name: args.bucketName,
      location: args.location,
      ...(args.dualRegions ? { customPlacementConfig: { dataLocations: args.dualRegions.map((r) => r.toUpperCase()) } } : {}),
      ...(args.turboReplication ? { rpo: 'ASYNC_TURBO' } : {}),
      storageClass: 'STANDARD',
      uniformBucketLevelAccess: true,
      publicAccessPrevention: 'enforced',
      lifecycleRules: [...lifecycleRules(args.lifecycle), ...(ephemeral ? [noncurrentCleanupRule()] : [])],
      // A retention policy and object versioning exclude each other on GCS; ephemeral stacks must be destroyable,
      // so they get versioning (undo of an accidental overwrite) and no retention policy.
      ...(ephemeral
        ? { versioning: { enabled: true } }
        : {
            retentionPolicy: { retentionPeriod: retentionPeriodSeconds(args.minimumRetentionDays), isLocked: args.retentionLocked ?? false },
            versioning: { enabled: false },
            // Object retention: the runner locks each backup for its own class (LIFEBOAT_OBJECT_LOCK); the
            // retention policy above stays the floor, and an object is kept until both have run out. GCS lets the
            // API enable it only when the bucket is created (an existing bucket: in the console, see docs/gcp.md),
            // it cannot be disabled, and it puts a lien on the project against deletion.
            enableObjectRetention: true,
          }),
      softDeletePolicy: { retentionDurationSeconds: ephemeral ? 0 : 7 * 86_400 },
      ...(args.kmsKeyName ? { encryption: { defaultKmsKeyName: args.kmsKeyName } } : {}),
      forceDestroy: ephemeral,
      labels: lifeboatLabels(args.labels ?? {}, ephemeral, { 'lifeboat-role': args.role ?? 'backup-vault' }),
    }, { parent: this, dependsOn, protect: !ephemeral });
    this.bucketName = this.bucket.name;
    this.registerOutputs({ bucketName: this.bucketName });
  }
}
