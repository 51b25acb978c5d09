/**
 * lifeboat:aws:BucketReplication: S3 cross-region replication of every backup into the DR bucket.
 *
 * Why replication and not a second write by the runner: the runner writes once and S3 copies every new version
 * (with Replication Time Control: 99.99% within 15 minutes, with metrics to alarm on), the backup identity has no
 * right at all on the DR bucket (a compromised writer cannot reach the DR copy), and Object Lock retention is carried
 * over to the replica. Delete markers are not replicated: expiry in the DR bucket is its own lifecycle's business.
 */
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { serviceTrustPolicy } from './iamDocuments';

export interface BucketReplicationArgs {
  /** Region of the source bucket. */
  region: string;
  source: { bucketName: pulumi.Input<string>; bucketArn: pulumi.Input<string>; keyArn: pulumi.Input<string> };
  destination: { bucketArn: pulumi.Input<string>; keyArn: pulumi.Input<string> };
  /** Account that owns both buckets (confused-deputy guard on the replication role's trust). */
  accountId: string;
  /** S3 Replication Time Control (15-minute SLA and replication metrics). Default: true. */
  replicationTimeControl?: boolean;
  /** Resources that must exist first: both buckets' versioning. */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
  tags?: Record<string, string>;
}

export class BucketReplication extends pulumi.ComponentResource {
  public readonly role: aws.iam.Role;

  constructor(name: string, args: BucketReplicationArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:aws:BucketReplication', name, {}, opts);
    if (!/^\d{12}$/.test(args.accountId)) {
      throw new pulumi.ResourceError(`${name}: accountId: expected a 12-digit AWS account id, got ${JSON.stringify(args.accountId)}`, this);
    }
    const rtc = args.replicationTimeControl ?? true;
    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description: 'Lifeboat: S3 replicates backups into the DR bucket',
        assumeRolePolicy: JSON.stringify(serviceTrustPolicy('s3.amazonaws.com', args.accountId)),
        tags: { ...(args.tags ?? {}), 'lifeboat-role': 'replication' },
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: this.role.id,
        policy: pulumi
          .all([args.source.bucketArn, args.source.keyArn, args.destination.bucketArn, args.destination.keyArn])
          .apply(([src, srcKey, dst, dstKey]) =>
            JSON.stringify({
              Version: '2012-10-17',
              Statement: [
                { Sid: 'ReadReplicationConfig', Effect: 'Allow', Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'], Resource: src },
                {
                  Sid: 'ReadSourceVersions',
                  Effect: 'Allow',
                  Action: [
                    's3:GetObjectVersionForReplication',
                    's3:GetObjectVersionAcl',
                    's3:GetObjectVersionTagging',
                    's3:GetObjectRetention',
                    's3:GetObjectLegalHold',
                  ],
                  Resource: `${src}/*`,
                },
                { Sid: 'WriteReplicas', Effect: 'Allow', Action: ['s3:ReplicateObject', 's3:ReplicateTags'], Resource: `${dst}/*` },
                { Sid: 'DecryptSource', Effect: 'Allow', Action: ['kms:Decrypt'], Resource: srcKey },
                { Sid: 'EncryptReplica', Effect: 'Allow', Action: ['kms:Encrypt', 'kms:GenerateDataKey'], Resource: dstKey },
              ],
            }),
          ),
      },
      { parent: this },
    );
    new aws.s3.BucketReplicationConfig(
      `${name}-config`,
      {
        region: args.region,
        bucket: args.source.bucketName,
        role: this.role.arn,
        rules: [
          {
            id: 'backups-to-dr',
            status: 'Enabled',
            priority: 1,
            filter: {},
            deleteMarkerReplication: { status: 'Disabled' },
            sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
            destination: {
              bucket: args.destination.bucketArn,
              encryptionConfiguration: { replicaKmsKeyId: args.destination.keyArn },
              ...(rtc
                ? {
                    replicationTime: { status: 'Enabled', time: { minutes: 15 } },
                    metrics: { status: 'Enabled', eventThreshold: { minutes: 15 } },
                  }
                : {}),
            },
          },
        ],
      },
      { parent: this, dependsOn: args.dependsOn ?? [] },
    );
    this.registerOutputs({ roleArn: this.role.arn });
  }
}
