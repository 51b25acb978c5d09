/**
 * lifeboat:k8s:EksRecoveryAccess: what a Kubernetes `dr` stack on EKS needs to read the DR copy: one IAM role that
 * trusts the surviving cluster's OIDC provider for exactly the restore ServiceAccount (IRSA) and may only list and
 * read the DR bucket and decrypt with its key (iamDocuments.restorePolicy). The bucket and key are the primary
 * stack's (its `drBucket` and `drBackupKeyArn` outputs); nothing here can write to or delete from them.
 */
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { irsaTrustPolicy, restorePolicy } from '../aws/iamDocuments';
import { oidcProviderAccount } from './workloadIdentity';

export interface EksRecoveryAccessArgs {
  /** The DR bucket's name and its KMS key. */
  bucketName: string;
  keyArn: string;
  /** Storage root inside the bucket. Default: ''. */
  rootPrefix?: string;
  /** The surviving cluster's IAM OIDC provider. */
  oidcProviderArn: string;
  namespace: string;
  /** The ServiceAccount the restore Jobs run as. */
  serviceAccount: string;
  tags?: Record<string, string>;
}

export class EksRecoveryAccess extends pulumi.ComponentResource {
  public readonly role: aws.iam.Role;
  public readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: EksRecoveryAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:k8s:EksRecoveryAccess', name, {}, opts);
    let account: string;
    try {
      account = oidcProviderAccount(args.oidcProviderArn);
    } catch (e) {
      throw new pulumi.ResourceError(`${name}: ${(e as Error).message}`, this);
    }
    const keyAccount = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:(\d{12}):key\//.exec(args.keyArn)?.[1];
    if (keyAccount !== account) {
      throw new pulumi.ResourceError(`${name}: keyArn: expected a KMS key of account ${account} (the OIDC provider's), got ${JSON.stringify(args.keyArn)}`, this);
    }
    this.role = new aws.iam.Role(
      `${name}-restore`,
      {
        description: 'Lifeboat DR: restores from the DR copy (read and decrypt only)',
        assumeRolePolicy: JSON.stringify(irsaTrustPolicy(args.oidcProviderArn, args.namespace, args.serviceAccount)),
        tags: { ...(args.tags ?? {}), 'lifeboat-role': 'restore-identity' },
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-restore-storage`,
      {
        role: this.role.id,
        policy: JSON.stringify(restorePolicy({ bucketArn: `arn:aws:s3:::${args.bucketName}`, kmsKeyArn: args.keyArn, rootPrefix: args.rootPrefix })),
      },
      { parent: this },
    );
    this.roleArn = this.role.arn;
    this.registerOutputs({ roleArn: this.roleArn });
  }
}
