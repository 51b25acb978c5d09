/**
 * lifeboat:k8s:GkeBackupStorage: the backup bucket of a Kubernetes stack on GKE, built from the GCP stack's own
 * components so both platforms get the same protection: the hardened BackupVault, its DisasterRecovery copy when a
 * DR location is given (with the Pub/Sub grants its event-driven replication needs, as on the GCP platform), and RunnerIdentity's backup (create + read, no delete) and restore (read, drill reports only)
 * service accounts. Each GCP account is then bound to the Kubernetes ServiceAccount that runs its jobs through
 * Workload Identity (workloadIdentity.ts); RunnerNamespace annotates the KSAs with the emails this exposes.
 */
import * as pulumi from '@pulumi/pulumi';
import * as gcp from '@pulumi/gcp';
import { BackupVault } from '../gcp/BackupVault';
import { DisasterRecovery } from '../gcp/DisasterRecovery';
import { RunnerIdentity as GcpRunnerIdentity } from '../gcp/RunnerIdentity';
import { storageUrl } from '../gcp/taskSpecs';
import type { LifecycleInput } from '../gcp/lifecycle';
import type { RunnerIdentity } from '../shared/taskPlan';
import { WORKLOAD_IDENTITY_USER_ROLE, workloadIdentityMember } from './workloadIdentity';
import { IDENTITIES } from './RunnerNamespace';

export interface GkeBackupStorageArgs {
  /** Project of the buckets and the runner's service accounts. */
  project: string;
  /** Project of the GKE cluster, whose Workload Identity pool the pods' identities come from. Default: `project`. */
  clusterProject?: string;
  /** Name prefix of the service accounts (`<prefix>-backup`, `<prefix>-restore`). */
  prefix: string;
  /** The backup bucket: name (globally unique), location (multi- or dual-region), placement, CMEK. */
  vault: { bucketName: string; location: string; dualRegions?: [string, string]; turboReplication?: boolean; kmsKeyName?: string };
  /** The DR copy (a location outside the vault's). Default: none (ephemeral stacks only). */
  dr?: { bucketName: string; location: string; kmsKeyName?: string };
  /** Retention per class and the storage root: the lifecycle rules of both buckets. */
  lifecycle: LifecycleInput;
  minimumRetentionDays: number;
  /** Default: false. */
  retentionLocked?: boolean;
  /** Default: false. */
  ephemeral?: boolean;
  /** Namespace of the runner's Kubernetes ServiceAccounts. */
  namespace: string;
  /** Kubernetes ServiceAccount per runner identity (backup → the GCP backup account, drill → the restore account). */
  serviceAccounts: Record<RunnerIdentity, string>;
  /** Default: {}. */
  labels?: Record<string, string>;
}

export class GkeBackupStorage extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly drBucketName?: pulumi.Output<string>;
  /** `gs://<bucket>/<root>`: the runner's LIFEBOAT_STORAGE. */
  public readonly storageUrl: string;
  /** GCP service account email per runner identity: the KSAs' `iam.gke.io/gcp-service-account` annotations. */
  public readonly serviceAccountEmails: Record<RunnerIdentity, pulumi.Output<string>>;

  constructor(name: string, args: GkeBackupStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:k8s:GkeBackupStorage', name, {}, opts);
    if (args.serviceAccounts.backup === args.serviceAccounts.drill) {
      // One KSA for both would give the backup job the drill identity's rights and the other way round.
      throw new pulumi.ResourceError(`${name}: serviceAccounts: expected two different names, got "${args.serviceAccounts.backup}" twice`, this);
    }
    let members: Record<RunnerIdentity, string>;
    try {
      members = {
        backup: workloadIdentityMember(args.clusterProject ?? args.project, args.namespace, args.serviceAccounts.backup),
        drill: workloadIdentityMember(args.clusterProject ?? args.project, args.namespace, args.serviceAccounts.drill),
      };
    } catch (e) {
      throw new pulumi.ResourceError(`${name}: ${(e as Error).message}`, this);
    }
    const ephemeral = args.ephemeral ?? false;
    const retention = {
      lifecycle: args.lifecycle,
      minimumRetentionDays: args.minimumRetentionDays,
      retentionLocked: args.retentionLocked ?? false,
      ephemeral,
      labels: args.labels ?? {},
    };
    const vault = new BackupVault(`${name}-vault`, { project: args.project, ...args.vault, ...retention }, { parent: this });
    if (args.dr) {
      const dr = new DisasterRecovery(
        `${name}-dr`,
        {
          project: args.project,
          sourceBucket: args.vault.bucketName,
          drBucketName: args.dr.bucketName,
          drLocation: args.dr.location,
          kmsKeyName: args.dr.kmsKeyName,
          ...retention,
          // Replication is event driven: without Pub/Sub rights for the transfer and Cloud Storage agents the
          // transfer job never sees a new object, and the DR copy stays empty while looking healthy.
          pubSubGrants: true,
        },
        { parent: this, dependsOn: [vault] },
      );
      this.drBucketName = dr.drBucketName;
    }
    // Only the bucket grants: no scheduler (CronJobs schedule themselves), no secrets (Kubernetes Secrets), no
    // project roles for the runner (GKE ships container logs; databases are reached by URL, not the Cloud SQL
    // connector). The only project roles in this component are the DR replication's, held by Google's agents.
    const identity = new GcpRunnerIdentity(
      `${name}-identity`,
      {
        project: args.project,
        prefix: args.prefix,
        backupBucket: args.vault.bucketName,
        // The drill account reads the DR copy too: drills can prove it, and a Kubernetes dr stack restores with it.
        readBuckets: args.dr ? [args.dr.bucketName] : [],
        storageRoot: args.lifecycle.root,
        scheduler: false,
        projectGrants: false,
        // The backups are locked per class (LIFEBOAT_OBJECT_LOCK), except in ephemeral stacks.
        objectRetention: !(args.ephemeral ?? false),
      },
      { parent: this, dependsOn: [vault] },
    );
    const accounts: Record<RunnerIdentity, gcp.serviceaccount.Account> = { backup: identity.backup!, drill: identity.restore };
    for (const id of IDENTITIES) {
      new gcp.serviceaccount.IAMMember(
        `${name}-${id}-workload-identity`,
        { serviceAccountId: accounts[id].name, role: WORKLOAD_IDENTITY_USER_ROLE, member: members[id] },
        { parent: this },
      );
    }
    this.bucketName = vault.bucketName;
    this.storageUrl = storageUrl(args.vault.bucketName, args.lifecycle.root);
    this.serviceAccountEmails = { backup: accounts.backup.email, drill: accounts.drill.email };
    this.registerOutputs({ bucketName: this.bucketName, drBucketName: this.drBucketName, serviceAccountEmails: this.serviceAccountEmails });
  }
}
