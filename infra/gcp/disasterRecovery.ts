import * as pulumi from '@pulumi/pulumi';
import * as gcp from '@pulumi/gcp';
import { BackupVault } from './backupVault';
import type { LifecycleInput } from './rules/lifecycle';

export interface DisasterRecoveryArgs {
  project: string;
  /** The primary backup bucket (a name from config). */
  sourceBucket: pulumi.Input<string>;
  /** The DR copy's bucket name. */
  drBucketName: string;
  /** A region other than the primary's. */
  drLocation: string;
  lifecycle: LifecycleInput;
  minimumRetentionDays: number;
  /** Default: false. */
  retentionLocked?: boolean;
  /** Default: false. */
  ephemeral?: boolean;
  /** CMEK key in the DR location. Default: Google-managed. */
  kmsKeyName?: string;
  /** Default: {}. */
  labels?: Record<string, string>;
}

/**
 * A copy of every backup in the DR region, by Storage Transfer Service cross-bucket replication rather than a
 * second write by the runner: the copy is made by Google's transfer service, so the runner's backup identity never
 * has any access to the DR bucket (a compromised runner cannot touch the copy), backups are not slowed down or
 * made to fail by a second upload, and objects written before DR was enabled can be backfilled by a one-off
 * transfer. Replication is asynchronous (typically minutes); a manifest may land before its payload, which the
 * runner treats as it treats any payload missing its checksum: not restorable until complete. Deletions are never
 * replicated; the DR bucket applies the same lifecycle and retention lock itself.
 */
export class DisasterRecovery extends pulumi.ComponentResource {
  readonly vault: BackupVault;
  readonly drBucketName: pulumi.Output<string>;

  constructor(name: string, args: DisasterRecoveryArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:gcp:DisasterRecovery', name, {}, opts);
    if (!args.drLocation) throw new pulumi.ResourceError(`DisasterRecovery ${name}: drLocation is required`, this);
    this.vault = new BackupVault(`${name}-vault`, {
      project: args.project,
      bucketName: args.drBucketName,
      location: args.drLocation,
      lifecycle: args.lifecycle,
      minimumRetentionDays: args.minimumRetentionDays,
      retentionLocked: args.retentionLocked ?? false,
      ephemeral: args.ephemeral ?? false,
      kmsKeyName: args.kmsKeyName,
      role: 'dr-vault',
      labels: args.labels ?? {},
    }, { parent: this });

    // The transfer service's agent reads the source and writes the copy (the roles STS documents for each side).
    const agent = gcp.storage.getTransferProjectServiceAccountOutput({ project: args.project }, { parent: this });
    const member = pulumi.interpolate`serviceAccount:${agent.email}`;
    const grants = [
      new gcp.storage.BucketIAMMember(`${name}-sts-source-viewer`, { bucket: args.sourceBucket, role: 'roles/storage.objectViewer', member }, { parent: this }),
      new gcp.storage.BucketIAMMember(`${name}-sts-source-reader`, { bucket: args.sourceBucket, role: 'roles/storage.legacyBucketReader', member }, { parent: this }),
      new gcp.storage.BucketIAMMember(`${name}-sts-sink-writer`, { bucket: this.vault.bucketName, role: 'roles/storage.legacyBucketWriter', member }, { parent: this }),
    ];
    new gcp.storage.TransferJob(`${name}-replication`, {
      project: args.project,
      description: pulumi.interpolate`Lifeboat: replicate ${args.sourceBucket} to ${this.vault.bucketName}`,
      replicationSpec: {
        gcsDataSource: { bucketName: args.sourceBucket },
        gcsDataSink: { bucketName: this.vault.bucketName },
        transferOptions: { deleteObjectsUniqueInSink: false, deleteObjectsFromSourceAfterTransfer: false, overwriteWhen: 'DIFFERENT' },
      },
    }, { parent: this, dependsOn: grants });
    this.drBucketName = this.vault.bucketName;
    this.registerOutputs({ drBucketName: this.drBucketName });
  }
}
