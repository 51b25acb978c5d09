/**
 * The Kubernetes section: where and how the runner's CronJobs run on any cluster, which cloud identity their
 * service accounts carry, where backups go, and whether the cluster runs the Prometheus operator.
 */
import { z } from 'zod';
import { duration, nonNegativeInt } from './values';

/** A DNS-1123 label: namespace, Secret and ServiceAccount names. */
const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { error: 'expected a Kubernetes name (lowercase letters, digits and "-", at most 63)' });
const quantity = z.string().regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/, { error: 'expected a Kubernetes quantity like "500m", "1Gi"' });
const gcpServiceAccount = z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]+\.iam\.gserviceaccount\.com$/, {
  error: 'expected a GCP service account email (name@project.iam.gserviceaccount.com)',
});
const iamRoleArn = z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, { error: 'expected an IAM role ARN' });

export const kubernetesSectionSchema = z.strictObject({
  /** Namespace of the runner; default: the stack's name prefix (`lifeboat-<environment>`). */
  namespace: dnsLabel.optional(),
  /** Create the namespace (with the `restricted` Pod Security level); false when it is managed elsewhere. */
  createNamespace: z.boolean().default(true),
  /** Where backups go: a bucket URL the runner writes to (s3:// or gs://, with the storage root in its path). */
  storage: z.strictObject({
    url: z.string().regex(/^(s3|gs):\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, { error: 'expected an s3:// or gs:// bucket URL' }),
    /** A Secret whose keys all become environment variables (e.g. AWS_ACCESS_KEY_ID for S3-compatible storage). */
    credentialsSecret: dnsLabel.optional(),
  }),
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
});

export const kubernetesKeys = {
  'lifeboat:kubernetes': kubernetesSectionSchema.optional(),
};

export type KubernetesConfig = z.output<typeof kubernetesSectionSchema>;
