/**
 * lifeboat:k8s:EksBackupStorage: the backup bucket of a Kubernetes stack on EKS, built from the AWS stack's own
 * components so both platforms get the same protection: the hardened BackupBucket (versioned, SSE-KMS with its own
 * key, public access blocked, lifecycle per class, Object Lock), its replica in the DR region through
 * BucketReplication, and RunnerRoles (backup: put/get/list, no delete; drill: get/list and drill reports) whose trust
 * is the cluster's OIDC provider for exactly one Kubernetes ServiceAccount each (IRSA). RunnerNamespace annotates the
 * KSAs with the role ARNs this exposes.
 */
import * as pulumi from '@pulumi/pulumi';
import type { BackupClass } from '../../runner/contract/layout';
import { BackupBucket } from '../aws/BackupBucket';
import { BucketReplication } from '../aws/BucketReplication';
import { RunnerRoles } from '../aws/RunnerRoles';
import type { RunnerIdentity } from '../shared/taskPlan';
import { oidcProviderAccount } from './workloadIdentity';

export interface EksBackupStorageArgs {
  /** Region of the backup bucket. */
  region: string;
  /** The backup bucket's name (globally unique: include account and region). */
  bucketName: string;
  /** The replica in another region. Default: none (ephemeral stacks only). */
  dr?: { region: string; bucketName: string };
  retentionDays: Record<BackupClass, number>;
  drillReportDays: number;
  /** Storage root inside the bucket. Default: ''. */
  rootPrefix?: string;
  /** Object Lock default retention of every new version. Default: none (ephemeral stacks). */
  lockRetention?: { mode: 'COMPLIANCE' | 'GOVERNANCE'; days: number };
  /** Pull-request stacks: force-destroyable buckets without Object Lock. Default: false. */
  ephemeral?: boolean;
  /** The cluster's IAM OIDC provider; its account is the account of the buckets and roles. */
  oidcProviderArn: string;
  /** Namespace of the runner's Kubernetes ServiceAccounts. */
  namespace: string;
  /** Kubernetes ServiceAccount per runner identity; each role trusts only its own. */
  serviceAccounts: Record<RunnerIdentity, string>;
  tags?: Record<string, string>;
}

export class EksBackupStorage extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly drBucketName?: pulumi.Output<string>;
  /** The DR bucket's KMS key: what a Kubernetes `dr` stack's `lifeboat:recovery.backupKeyArn` takes. */
  public readonly drKeyArn?: pulumi.Output<string>;
  /** IAM role ARN per runner identity: the KSAs' `eks.amazonaws.com/role-arn` annotations. */
  public readonly roleArns: Record<RunnerIdentity, pulumi.Output<string>>;

  constructor(name: string, args: EksBackupStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:k8s:EksBackupStorage', name, {}, opts);
    if (args.serviceAccounts.backup === args.serviceAccounts.drill) {
      // One KSA for both would let the backup job assume the drill role and the other way round.
      throw new pulumi.ResourceError(`${name}: serviceAccounts: expected two different names, got "${args.serviceAccounts.backup}" twice`, this);
    }
    if (args.dr && args.dr.region === args.region) {
      throw new pulumi.ResourceError(`${name}: dr.region: expected a region other than ${args.region}, got ${JSON.stringify(args.dr.region)}`, this);
    }
    let accountId: string;
    try {
      accountId = oidcProviderAccount(args.oidcProviderArn);
    } catch (e) {
      throw new pulumi.ResourceError(`${name}: ${(e as Error).message}`, this);
    }
    const ephemeral = args.ephemeral ?? false;
    const tags = args.tags ?? {};
    const common = {
      retentionDays: args.retentionDays,
      drillReportDays: args.drillReportDays,
      rootPrefix: args.rootPrefix ?? '',
      forceDestroy: ephemeral,
      objectLockEnabled: !ephemeral,
      lockRetention: args.lockRetention,
      tags,
    };
    const vault = new BackupBucket(`${name}-backups`, { ...common, region: args.region, bucketName: args.bucketName }, { parent: this });
    let drVault: BackupBucket | undefined;
    if (args.dr) {
      drVault = new BackupBucket(
        `${name}-backups-dr`,
        { ...common, region: args.dr.region, bucketName: args.dr.bucketName, role: 'dr-vault' },
        { parent: this },
      );
      new BucketReplication(
        `${name}-replication`,
        {
          region: args.region,
          accountId,
          source: { bucketName: vault.bucketName, bucketArn: vault.bucketArn, keyArn: vault.keyArn },
          destination: { bucketArn: drVault.bucketArn, keyArn: drVault.keyArn },
          dependsOn: [vault.versioning, drVault.versioning],
          tags,
        },
        { parent: this },
      );
      this.drBucketName = drVault.bucketName;
      this.drKeyArn = drVault.keyArn;
    }
    const roles = new RunnerRoles(
      `${name}-runner`,
      {
        bucketArn: vault.bucketArn,
        keyArn: vault.keyArn,
        rootPrefix: args.rootPrefix ?? '',
        accountId,
        trust: { kind: 'irsa', oidcProviderArn: args.oidcProviderArn, namespace: args.namespace, serviceAccounts: args.serviceAccounts },
        // Drills may read the DR copy too, to prove the copy a disaster would restore from.
        drillReadBuckets: drVault ? [{ bucketArn: drVault.bucketArn, keyArn: drVault.keyArn }] : [],
        tags,
      },
      { parent: this },
    );
    this.bucketName = vault.bucketName;
    this.roleArns = roles.taskRoleArns;
    this.registerOutputs({ bucketName: this.bucketName, drBucketName: this.drBucketName, drKeyArn: this.drKeyArn, roleArns: this.roleArns });
  }
}
