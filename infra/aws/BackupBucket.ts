/**
 * lifeboat:aws:BackupBucket: one hardened S3 bucket for backups, with its own KMS key. Used twice per stack: the
 * primary bucket and its DR replica in another region.
 *
 * Versioned (replication and Object Lock need it), SSE-KMS with a dedicated rotating key, every public access path
 * blocked, ACLs disabled (bucket owner enforced), TLS required, lifecycle rules per class prefix (lifecycle.ts), and
 * Object Lock default retention when the stack locks retention.
 */
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import type { BackupClass } from '../../runner/contract/layout';
import { s3LifecycleRules } from './lifecycle';

export interface BackupBucketArgs {
  /** Region of the bucket and its key (set on every child, so the state says where each lives). */
  region: string;
  /**
   * Globally unique bucket name. Explicit, so the runner's storage URL is known before deployment; include the
   * account id and region to keep it unique. Default: autonamed from the resource name.
   */
  bucketName?: string;
  /** Retention days per backup class; the lifecycle rules expire each class prefix after these. */
  retentionDays: Record<BackupClass, number>;
  /** Days drill reports are kept. */
  drillReportDays: number;
  /** Storage root inside the bucket ('' by default): lifecycle prefixes start with it. */
  rootPrefix?: string;
  /**
   * Create the bucket with Object Lock enabled (it cannot be enabled later without AWS support for old buckets).
   * Default: true unless `forceDestroy` (a locked object blocks destroying the bucket).
   */
  objectLockEnabled?: boolean;
  /** Default retention applied to every new object version (needs objectLockEnabled). Default: none. */
  lockRetention?: { mode: 'COMPLIANCE' | 'GOVERNANCE'; days: number };
  /** Let `pulumi destroy` delete a non-empty bucket (ephemeral stacks only). Default: false. */
  forceDestroy?: boolean;
  /** Waiting period before the KMS key is deleted after destroy (7-30). Default: 30. */
  keyDeletionWindowDays?: number;
  /** What the bucket is for, as the `lifeboat-role` tag the policy pack reads. Default: `backup-vault`. */
  role?: 'backup-vault' | 'dr-vault';
  tags?: Record<string, string>;
}

/** S3's bucket naming rules (general purpose buckets). */
export function isValidBucketName(name: string): boolean {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name);
}

export class BackupBucket extends pulumi.ComponentResource {
  public readonly bucket: aws.s3.Bucket;
  public readonly key: aws.kms.Key;
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;
  public readonly keyArn: pulumi.Output<string>;
  /** The versioning resource: replication must wait for it. */
  public readonly versioning: aws.s3.BucketVersioning;

  constructor(name: string, args: BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:aws:BackupBucket', name, {}, opts);
    const forceDestroy = args.forceDestroy ?? false;
    const objectLockEnabled = args.objectLockEnabled ?? !forceDestroy;
    const deletionWindow = args.keyDeletionWindowDays ?? 30;
    if (!args.region) throw new pulumi.ResourceError(`${name}: region: expected an AWS region, got nothing`, this);
    if (args.bucketName !== undefined && !isValidBucketName(args.bucketName)) {
      throw new pulumi.ResourceError(
        `${name}: bucketName: expected 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit, got ${JSON.stringify(args.bucketName)}`,
        this,
      );
    }
    if (args.lockRetention && !objectLockEnabled) {
      throw new pulumi.ResourceError(`${name}: lockRetention: expected objectLockEnabled true, got false`, this);
    }
    if (args.lockRetention && forceDestroy) {
      throw new pulumi.ResourceError(`${name}: lockRetention: a locked bucket cannot be force-destroyed (forceDestroy is true)`, this);
    }
    if (args.lockRetention && !(Number.isInteger(args.lockRetention.days) && args.lockRetention.days >= 1)) {
      throw new pulumi.ResourceError(`${name}: lockRetention.days: expected a whole number of days >= 1, got ${args.lockRetention.days}`, this);
    }
    if (!(Number.isInteger(deletionWindow) && deletionWindow >= 7 && deletionWindow <= 30)) {
      throw new pulumi.ResourceError(`${name}: keyDeletionWindowDays: expected 7 to 30, got ${deletionWindow}`, this);
    }
    let rules;
    try {
      rules = s3LifecycleRules({ retentionDays: args.retentionDays, drillReportDays: args.drillReportDays, rootPrefix: args.rootPrefix });
    } catch (e) {
      throw new pulumi.ResourceError(`${name}: ${(e as Error).message}`, this);
    }
    const region = args.region;
    const tags = { ...(args.tags ?? {}), 'lifeboat-role': args.role ?? 'backup-vault' };
    const child = { parent: this };

    this.key = new aws.kms.Key(
      `${name}-key`,
      {
        region,
        description: `Lifeboat backups (${name})`,
        enableKeyRotation: true,
        deletionWindowInDays: deletionWindow,
        tags,
      },
      child,
    );
    this.bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      { region, ...(args.bucketName ? { bucket: args.bucketName } : {}), objectLockEnabled, forceDestroy, tags },
      child,
    );
    const bucket = this.bucket.id;

    this.versioning = new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { region, bucket, versioningConfiguration: { status: 'Enabled' } },
      child,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        region,
        bucket,
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: this.key.arn },
            // One data key per bucket instead of per object: fewer KMS calls, same key.
            bucketKeyEnabled: true,
          },
        ],
      },
      child,
    );
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      { region, bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      child,
    );
    new aws.s3.BucketOwnershipControls(`${name}-ownership`, { region, bucket, rule: { objectOwnership: 'BucketOwnerEnforced' } }, child);
    new aws.s3.BucketPolicy(
      `${name}-tls-only`,
      {
        region,
        bucket,
        policy: this.bucket.arn.apply((arn) =>
          JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'DenyInsecureTransport',
                Effect: 'Deny',
                Principal: '*',
                Action: 's3:*',
                Resource: [arn, `${arn}/*`],
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              },
            ],
          }),
        ),
      },
      // PutBucketPolicy fails while the public access block is being applied; order them.
      { parent: this, dependsOn: [publicAccess] },
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      { region, bucket, rules },
      // AWS documents that lifecycle on a versioned bucket must be applied after versioning is enabled.
      { parent: this, dependsOn: [this.versioning] },
    );
    if (args.lockRetention) {
      new aws.s3.BucketObjectLockConfiguration(
        `${name}-object-lock`,
        {
          region,
          bucket,
          objectLockEnabled: 'Enabled',
          rule: { defaultRetention: { mode: args.lockRetention.mode, days: args.lockRetention.days } },
        },
        { parent: this, dependsOn: [this.versioning] },
      );
    }

    this.bucketName = this.bucket.bucket;
    this.bucketArn = this.bucket.arn;
    this.keyArn = this.key.arn;
    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn, keyArn: this.keyArn });
  }
}
