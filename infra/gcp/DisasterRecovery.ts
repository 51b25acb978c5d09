import { createHash } from 'node:crypto';
import * as pulumi from '@pulumi/pulumi';
import * as gcp from '@pulumi/gcp';
import { BackupVault } from './BackupVault';
import type { LifecycleInput } from './lifecycle';

/**
 * What the transfer service's agent needs for cross-bucket replication, and nothing more: on the source, read
 * the bucket and its objects and set the bucket's change notifications (storage.buckets.update); on the DR copy,
 * read the bucket and create and read objects. No delete anywhere: backups are never rewritten (every backup has
 * its own id), so the job never overwrites (`overwriteWhen: NEVER`), and deletions are never replicated. Custom
 * roles, because the predefined role that holds buckets.update (Legacy Bucket Owner, what the guide suggests
 * besides Storage Admin) also holds objects.delete and setIamPolicy.
 */
export const STS_SOURCE_PERMISSIONS = ['storage.buckets.get', 'storage.buckets.update', 'storage.objects.get', 'storage.objects.list'] as const;
export const STS_SINK_PERMISSIONS = ['storage.buckets.get', 'storage.objects.create', 'storage.objects.get', 'storage.objects.list'] as const;

/**
 * A custom role id per DR copy (`[a-zA-Z0-9_.]`, 3-64): from a hash of the DR bucket's name, which is unique, so no
 * two stacks in a project share (and one's destroy never removes) the other's role.
 */
export function replicationRoleId(drBucketName: string, side: 'source' | 'sink'): string {
  return `lifeboat_replication_${side}_${createHash('sha256').update(drBucketName).digest('hex').slice(0, 12)}`;
}
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
  /** What provider functions wait for (the project's APIs). Default: []. */
  servicesReady?: pulumi.Resource[];
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
    // source bucket, creates the topic and subscription it listens on (Pub/Sub Editor on the project), reads the
    // source and writes the copy; Cloud Storage's own agent publishes the change notifications. The read/write
    // roles of a plain transfer are not enough: without storage.buckets.update and Pub/Sub rights the replication
    // job never sees a new object.
    const ready = args.servicesReady ?? [];
    const agent = gcp.storage.getTransferProjectServiceAccountOutput({ project: args.project }, { parent: this, dependsOn: ready });
    const member = pulumi.interpolate`serviceAccount:${agent.email}`;
    const role = (side: 'source' | 'sink', permissions: readonly string[]) =>
      new gcp.projects.IAMCustomRole(`${name}-sts-${side}-role`, {
        project: args.project,
        roleId: replicationRoleId(args.drBucketName, side),
        title: `Lifeboat replication ${side} (${args.drBucketName})`,
        description: `Storage Transfer cross-bucket replication, ${side} bucket: ${permissions.join(', ')} (no delete)`,
        permissions: [...permissions],
      }, { parent: this });
    const grant = (side: 'source' | 'sink', bucket: pulumi.Input<string>, r: gcp.projects.IAMCustomRole) =>
      new gcp.storage.BucketIAMMember(`${name}-sts-${side}`, { bucket, role: r.name, member }, { parent: this });
    const grants: pulumi.Resource[] = [
      grant('source', args.sourceBucket, role('source', STS_SOURCE_PERMISSIONS)),
      grant('sink', this.vault.bucketName, role('sink', STS_SINK_PERMISSIONS)),
    ];
    if (args.pubSubGrants ?? false) {
      // Project-level grants to Google's agents are the same for every stack in the project (prod and a GKE stack
      // may both replicate): no stack removes them on destroy (retainOnDelete), or destroying one stack would
      // silently stop the other's replication. Remove them by hand once no stack in the project replicates.
      const storageAgent = gcp.storage.getProjectServiceAccountOutput({ project: args.project }, { parent: this, dependsOn: ready });
      grants.push(
        new gcp.projects.IAMMember(`${name}-sts-pubsub`, { project: args.project, role: STS_PUBSUB_ROLE, member }, { parent: this, retainOnDelete: true }),
        new gcp.projects.IAMMember(`${name}-gcs-publisher`, {
          project: args.project,
          role: GCS_NOTIFICATION_ROLE,
          member: pulumi.interpolate`serviceAccount:${storageAgent.emailAddress}`,
        }, { parent: this, retainOnDelete: true }),
      );
    }
    new gcp.storage.TransferJob(`${name}-replication`, {
      project: args.project,
      description: pulumi.interpolate`Lifeboat: replicate ${args.sourceBucket} to ${this.vault.bucketName}`,
      replicationSpec: {
        gcsDataSource: { bucketName: args.sourceBucket },
        gcsDataSink: { bucketName: this.vault.bucketName },
        transferOptions: { deleteObjectsUniqueInSink: false, deleteObjectsFromSourceAfterTransfer: false, overwriteWhen: 'NEVER' },
      },
    }, { parent: this, dependsOn: grants });
    this.drBucketName = this.vault.bucketName;
    this.registerOutputs({ drBucketName: this.drBucketName });
  }
}
