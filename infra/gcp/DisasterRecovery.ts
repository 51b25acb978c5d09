import * as pulumi from '@pulumi/pulumi';
import * as gcp from '@pulumi/gcp';
import { BackupVault } from './BackupVault';
import type { LifecycleInput } from './lifecycle';

/** Roles of the transfer service's agent: on the source and DR buckets, and on the project for Pub/Sub. */
export const STS_BUCKET_ROLES = ['roles/storage.objectViewer', 'roles/storage.legacyBucketOwner'] as const;
export const STS_PUBSUB_ROLE = 'roles/pubsub.editor';
/** Cloud Storage's service agent publishes the source bucket's change notifications. */
export const GCS_NOTIFICATION_ROLE = 'roles/pubsub.publisher';

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
  /**
   * Grant the project-level Pub/Sub roles event-driven replication needs: Pub/Sub Editor to the transfer service's
   * agent, Pub/Sub Publisher to Cloud Storage's agent. Without them (or the same roles granted out of band, e.g.
   * by `gcloud transfer authorize --add-missing`) the replication job sees no new object. Default: false, for
   * callers whose project IAM is managed elsewhere; the GCP platform sets it.
   */
  pubSubGrants?: boolean;
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

    // Cross-bucket replication is event driven: the transfer service's agent puts Pub/Sub notifications on the
    // buckets (storage.buckets.update), creates the topic and subscription it listens on (Pub/Sub Editor on the
    // project), reads the source and writes the copy (objects.get on the sink too: it compares before it
    // overwrites); Cloud Storage's own agent publishes the change notifications. The replication guide grants
    // Storage Admin on the buckets; Object Viewer + Legacy Bucket Owner hold the same bucket and object
    // permissions this needs, and the policy pack refuses Storage Admin inside a Lifeboat stack. The read/write
    // roles of a plain transfer are not enough: without storage.buckets.update and Pub/Sub rights the
    // replication job never sees a new object.
    const agent = gcp.storage.getTransferProjectServiceAccountOutput({ project: args.project }, { parent: this });
    const member = pulumi.interpolate`serviceAccount:${agent.email}`;
    const bucketGrant = (side: string, bucket: pulumi.Input<string>) =>
      STS_BUCKET_ROLES.map((role) =>
        new gcp.storage.BucketIAMMember(`${name}-sts-${side}-${role.split('.').pop()!.toLowerCase()}`, { bucket, role, member }, { parent: this }),
      );
    const grants: pulumi.Resource[] = [
      ...bucketGrant('source', args.sourceBucket),
      ...bucketGrant('sink', this.vault.bucketName),
    ];
    if (args.pubSubGrants ?? false) {
      const storageAgent = gcp.storage.getProjectServiceAccountOutput({ project: args.project }, { parent: this });
      grants.push(
        new gcp.projects.IAMMember(`${name}-sts-pubsub`, { project: args.project, role: STS_PUBSUB_ROLE, member }, { parent: this }),
        new gcp.projects.IAMMember(`${name}-gcs-publisher`, {
          project: args.project,
          role: GCS_NOTIFICATION_ROLE,
          member: pulumi.interpolate`serviceAccount:${storageAgent.emailAddress}`,
        }, { parent: this }),
      );
    }
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
