/**
 * The AWS section: `aws:region` (the provider's own key, so provider and program agree) and `lifeboat:aws` for how
 * Lifeboat lays itself out on AWS. Defaults for every optional field live here.
 */
import { z } from 'zod';
import { duration, positiveInt } from './values';

/** Retention values CloudWatch Logs accepts (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** Fargate CPU units and the memory (MiB) each allows, from the ECS task-size table. */
export const FARGATE_SIZES: Record<number, [number, number, number]> = {
  256: [512, 2048, 1024],
  512: [1024, 4096, 1024],
  1024: [2048, 8192, 1024],
  2048: [4096, 16384, 1024],
  4096: [8192, 30720, 1024],
  8192: [16384, 61440, 4096],
  16384: [32768, 122880, 8192],
};

const accountId = z.string().regex(/^\d{12}$/, { error: 'expected a 12-digit AWS account id' });

export const awsSectionSchema = z
  .strictObject({
    /** The account the stack deploys into: a guard against the wrong credentials, and part of IAM ARNs. */
    accountId,
    /** Where the Fargate tasks run: private subnets with a route to S3, Secrets Manager and the databases. */
    network: z.strictObject({
      subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, { error: 'expected a subnet id (subnet-...)' })).min(1),
      securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]+$/, { error: 'expected a security group id (sg-...)' })).min(1),
      /** Only for subnets without a NAT gateway or VPC endpoints (the task then needs a public IP to pull its image). */
      assignPublicIp: z.boolean().default(false),
    }),
    /** Fargate task size and limits, for every runner task. */
    task: z
      .strictObject({
        /** CPU units (1024 = 1 vCPU). */
        cpu: z.union([256, 512, 1024, 2048, 4096, 8192, 16384].map((n) => z.literal(n))).default(1024),
        /** Memory in MiB, within what the CPU size allows. */
        memory: positiveInt.default(4096),
        /** Task ephemeral storage in GiB (21-200): restores spool a whole dump into /tmp. */
        ephemeralStorageGiB: z.number().int().min(21).max(200).default(50),
        /** Hard limit of a backup or Redis backup run (enforced with `timeout` around the runner). */
        timeout: duration.default('2h'),
        /** Hard limit of a drill. */
        restoreTimeout: duration.default('4h'),
        /** The image's entrypoint (runner/Dockerfile), wrapped by the timeout. */
        entryPoint: z.array(z.string().min(1)).min(1).default(['node', '/app/dist/runner/cli.js']),
      })
      .default(() => ({ cpu: 1024 as const, memory: 4096, ephemeralStorageGiB: 50, timeout: '2h', restoreTimeout: '4h', entryPoint: ['node', '/app/dist/runner/cli.js'] })),
    /** Days the runner's CloudWatch logs are kept (a value CloudWatch accepts). */
    logRetentionDays: z
      .number()
      .refine((n) => (LOG_RETENTION_DAYS as readonly number[]).includes(n), {
        error: `expected one of CloudWatch's retention values (${LOG_RETENTION_DAYS.join(', ')})`,
      })
      .default(365),
    /** Object Lock mode when `retentionLocked`: COMPLIANCE (nobody, not even root, can shorten it) or GOVERNANCE. Unlocked, non-ephemeral stacks get GOVERNANCE. */
    objectLockMode: z.enum(['COMPLIANCE', 'GOVERNANCE']).default('COMPLIANCE'),
    /**
     * Replicate the runner image's ECR repository into `drRegion` (primary stacks whose image is in this account's
     * ECR), so the DR stack can pull the same digest when this region is gone. ECR keeps one replication
     * configuration per registry and this stack's replaces any other: one stack per account and region owns it,
     * the others (and stacks whose registry replication is managed elsewhere) set false. Kept on destroy.
     */
    imageReplication: z.boolean().default(true),
    /** Network and size of RDS instances this stack creates (adopted instances keep theirs). */
    rds: z
      .strictObject({
        /** DB subnet group for created instances. */
        subnetGroupName: z.string().min(1).optional(),
        vpcSecurityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]+$/)).default([]),
        /** Default instance class when `instance.tier` is not given. */
        instanceClass: z.string().regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, { error: 'expected an RDS class like "db.t4g.medium"' }).default('db.t4g.medium'),
        masterUsername: z.string().regex(/^[a-z][a-z0-9_]{0,15}$/).default('lifeboat_admin'),
      })
      .default(() => ({ vpcSecurityGroupIds: [], instanceClass: 'db.t4g.medium', masterUsername: 'lifeboat_admin' })),
  })
  .superRefine((v, ctx) => {
    const size = FARGATE_SIZES[v.task.cpu];
    if (size && (v.task.memory < size[0] || v.task.memory > size[1] || v.task.memory % size[2] !== 0)) {
      ctx.addIssue({
        code: 'custom',
        path: ['task', 'memory'],
        message: `expected memory for ${v.task.cpu} CPU units between ${size[0]} and ${size[1]} MiB in steps of ${size[2]}`,
      });
    }
  });

export const awsKeys = {
  'aws:region': z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'expected an AWS region like "eu-west-1"' }).optional(),
  'lifeboat:aws': awsSectionSchema.optional(),
};

export type AwsSection = z.output<typeof awsSectionSchema>;

export interface AwsConfig extends AwsSection {
  region: string;
}
