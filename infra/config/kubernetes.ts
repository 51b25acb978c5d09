/**
 * The Kubernetes section: where and how the runner's CronJobs run on any cluster, which cloud identity their
 * service accounts carry, where backups go, and whether the cluster runs the Prometheus operator.
 */
import { z } from 'zod';
import { duration, nonNegativeInt } from './values';
import { gcpSectionSchema } from './gcp';

/** A DNS-1123 label: namespace, Secret and ServiceAccount names. */
const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { error: 'expected a Kubernetes name (lowercase letters, digits and "-", at most 63)' });
const quantity = z.string().regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/, { error: 'expected a Kubernetes quantity like "500m", "1Gi"' });
const gcpServiceAccount = z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]+\.iam\.gserviceaccount\.com$/, {
  error: 'expected a GCP service account email (name@project.iam.gserviceaccount.com)',
});
const iamRoleArn = z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, { error: 'expected an IAM role ARN' });

const gcpProjectId = z
  .string({ error: 'expected a GCP project id' })
  .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, { error: 'expected a GCP project id' });
const awsRegion = z
  .string({ error: 'expected an AWS region like "eu-west-1"' })
  .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'expected an AWS region like "eu-west-1"' });

const bucketUrl = z.string().regex(/^(s3|gs):\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, { error: 'expected an s3:// or gs:// bucket URL' });

/**
 * A GCS bucket (and its DR copy) created by this stack for a GKE cluster, with the runner's GCP service accounts
 * bound to its Kubernetes ServiceAccounts through Workload Identity. Location keys as in `lifeboat:gcp`.
 */
export const gcpStorageSchema = gcpSectionSchema
  .pick({ bucketLocation: true, dualRegions: true, turboReplication: true, drBucketLocation: true, kmsKeyName: true, drKmsKeyName: true })
  .extend({
    /** Project of the bucket and the runner's service accounts. */
    project: gcpProjectId,
    /** Project of the GKE cluster, whose pool `<clusterProject>.svc.id.goog` the pods' identities come from. Default: `project`. */
    clusterProject: gcpProjectId.optional(),
  });

/**
 * An S3 bucket (and its DR replica when `lifeboat:drRegion` is set) created by this stack for an EKS cluster, with
 * runner roles its Kubernetes ServiceAccounts assume through IRSA.
 */
export const awsStorageSchema = z.strictObject({
  /** Region of the bucket (the cluster's, usually). */
  region: awsRegion,
  /**
   * The cluster's IAM OIDC provider, `arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>`:
   * the roles trust it; its account is the account of the bucket and roles; its path is the issuer URL.
   */
  oidcProviderArn: z.string({ error: 'expected the IAM OIDC provider ARN of the cluster' }).regex(/^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/[a-z0-9.-]+(\/[\w.-]+)*$/, {
    error: 'expected an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>)',
  }),
  /** Object Lock mode when `lifeboat:retentionLocked`; unlocked, non-ephemeral stacks get GOVERNANCE. */
  objectLockMode: z.enum(['COMPLIANCE', 'GOVERNANCE']).default('COMPLIANCE'),
});

const STORAGE_MODES = ['url', 'gcp', 'aws'] as const;

const storageSchema = z
  .strictObject({
    /** A bucket URL the runner writes to (s3:// or gs://, with the storage root in its path). */
    url: bucketUrl.optional(),
    /** With `url` only: a Secret whose keys all become environment variables (e.g. AWS_ACCESS_KEY_ID for S3-compatible storage). */
    credentialsSecret: dnsLabel.optional(),
    gcp: gcpStorageSchema.optional(),
    aws: awsStorageSchema.optional(),
  })
  .superRefine((v, ctx) => {
    const given = STORAGE_MODES.filter((m) => v[m] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `expected exactly one of url (a bucket you give), gcp (a GCS bucket this stack creates, for GKE) or aws (an S3 bucket this stack creates, for EKS); ${given.length ? `${given.join(' and ')} given` : 'none given'}`,
      });
    }
    if (v.credentialsSecret !== undefined && v.url === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['credentialsSecret'],
        message: 'expected nothing unless storage.url is set (a bucket this stack creates is reached through the cloud identity it binds)',
      });
    }
  });

/** Storage as the platform adapter reads it: one of the three shapes. */
export type GivenStorage = { url: string; credentialsSecret?: string };
export type GcpStorage = z.output<typeof gcpStorageSchema>;
export type AwsStorage = z.output<typeof awsStorageSchema>;
export type KubernetesStorage = GivenStorage | { gcp: GcpStorage } | { aws: AwsStorage };

export const kubernetesSectionSchema = z.strictObject({
  /** Namespace of the runner; default: the stack's name prefix (`lifeboat-<environment>`). */
  namespace: dnsLabel.optional(),
  /** Create the namespace (with the `restricted` Pod Security level); false when it is managed elsewhere. */
  createNamespace: z.boolean().default(true),
  /**
   * Where backups go, exactly one of: `url`, a bucket given by URL (with `identity` or `credentialsSecret` for
   * access); `gcp`, a GCS bucket this stack creates (GKE: Workload Identity); `aws`, an S3 bucket this stack creates
   * (EKS: IRSA).
   */
  storage: storageSchema,
  /** Cloud identity of the runner's service accounts: GKE Workload Identity or EKS IRSA (one of them, or none). */
  identity: z
    .strictObject({
      gcpServiceAccounts: z.strictObject({ backup: gcpServiceAccount, drill: gcpServiceAccount }).optional(),
      awsRoleArns: z.strictObject({ backup: iamRoleArn, drill: iamRoleArn }).optional(),
    })
    .refine((v) => !(v.gcpServiceAccounts && v.awsRoleArns), { error: 'expected gcpServiceAccounts or awsRoleArns, not both' })
    .default({}),
  /** The cluster runs the Prometheus operator: alerts become a PrometheusRule (on kube-state-metrics series). */
  prometheusOperator: z.boolean().default(false),
  /** Labels the operator's ruleSelector matches, e.g. { release: kube-prometheus-stack }. */
  prometheusRuleLabels: z.record(z.string(), z.string()).default({}),
  /** Key inside each Kubernetes Secret (named like the config's secret names) holding the value. */
  secretKey: z.string().regex(/^[-._a-zA-Z0-9]+$/).default('value'),
  resources: z
    .strictObject({
      cpuRequest: quantity.default('500m'),
      memoryRequest: quantity.default('1Gi'),
      memoryLimit: quantity.default('2Gi'),
      cpuLimit: quantity.optional(),
      /** Size of the /tmp emptyDir: drills spool a whole dump there. */
      scratchSize: quantity.default('20Gi'),
    })
    .default(() => ({ cpuRequest: '500m', memoryRequest: '1Gi', memoryLimit: '2Gi', scratchSize: '20Gi' })),
  job: z
    .strictObject({
      /** activeDeadlineSeconds of backup and Redis backup Jobs. */
      timeout: duration.default('2h'),
      /** activeDeadlineSeconds of drill Jobs. */
      restoreTimeout: duration.default('4h'),
      /** A run that could not start within this long after its time is skipped (the staleness alert notices). */
      startingDeadline: duration.default('30m'),
      /** Retries of a failed pod; exit 2 is bad config and fails again, so keep this small. */
      backoffLimit: nonNegativeInt.max(6).default(1),
      /** Finished Jobs are kept this long, so failures can be inspected and alerted on. */
      ttlAfterFinished: duration.default('1d'),
    })
    .default(() => ({ timeout: '2h', restoreTimeout: '4h', startingDeadline: '30m', backoffLimit: 1, ttlAfterFinished: '1d' })),
}).superRefine((v, ctx) => {
  const provisioned = v.storage.gcp ? 'gcp' : v.storage.aws ? 'aws' : undefined;
  if (provisioned && (v.identity.gcpServiceAccounts || v.identity.awsRoleArns)) {
    ctx.addIssue({
      code: 'custom',
      path: ['identity'],
      message: `expected nothing with storage.${provisioned} (the stack creates the runner's cloud identities and annotates the service accounts itself)`,
    });
  }
});

export const kubernetesKeys = {
  'lifeboat:kubernetes': kubernetesSectionSchema.optional(),
};

export type KubernetesConfig = Omit<z.output<typeof kubernetesSectionSchema>, 'storage'> & { storage: KubernetesStorage };
