/**
 * The GCP section: `gcp:project` and `gcp:region` (the provider's own keys, so the provider and the program agree)
 * and `lifeboat:gcp` for how Lifeboat lays itself out on GCP.
 */
import { z } from 'zod';
import { duration, nonNegativeInt, secretName } from './values';

/** Multi-regions and predefined dual-regions of Cloud Storage: a backup bucket survives the loss of one region. */
export const GCS_MULTI_REGIONS = ['US', 'EU', 'ASIA'] as const;
export const GCS_DUAL_REGIONS = ['ASIA1', 'EUR4', 'EUR5', 'EUR7', 'EUR8', 'NAM4'] as const;

export const gcpSectionSchema = z.strictObject({
  /**
   * Location of the backup bucket: a multi-region (US, EU, ASIA) or a predefined dual-region (EUR4, NAM4, ...).
   * With `dualRegions`, a multi-region code whose two regions form a configurable dual-region.
   */
  bucketLocation: z.string().transform((v) => v.toUpperCase()).pipe(
    z.enum([...GCS_MULTI_REGIONS, ...GCS_DUAL_REGIONS], {
      error: `expected a multi-region (${GCS_MULTI_REGIONS.join(', ')}) or dual-region (${GCS_DUAL_REGIONS.join(', ')})`,
    }),
  ),
  /** Two regions of a configurable dual-region (custom placement), e.g. ["europe-west1", "europe-west4"]. */
  dualRegions: z.tuple([z.string().min(1), z.string().min(1)]).optional(),
  /** Turbo replication (15-minute RPO between the two regions) for dual-regions. */
  turboReplication: z.boolean().default(false),
  /** Location of the DR copy bucket; default: `lifeboat:drRegion`. */
  drBucketLocation: z.string().min(1).optional(),
  /** CMEK for the backup bucket (a key in the bucket's location). Optional: Google-managed keys otherwise. */
  kmsKeyName: z.string().regex(/^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/).optional(),
  /** CMEK for the DR bucket (a key in the DR location). */
  drKmsKeyName: z.string().regex(/^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/).optional(),
  /** Cloud Run job sizing and limits, for every runner job. */
  job: z
    .strictObject({
      cpu: z.string().regex(/^\d+(\.\d+)?$|^\d+m$/).default('1'),
      memory: z.string().regex(/^\d+(Mi|Gi)$/).default('2Gi'),
      /** Task timeout of backup and Redis jobs. */
      timeout: duration.default('2h'),
      /** Task timeout of drill and restore jobs (restores take longer than dumps). */
      restoreTimeout: duration.default('4h'),
      /** Retries of a failed task (exit 1); exit 2 is bad config and fails again, so keep this small. */
      maxRetries: nonNegativeInt.max(10).default(1),
    })
    .default(() => ({ cpu: '1', memory: '2Gi', timeout: '2h', restoreTimeout: '4h', maxRetries: 1 })),
  /**
   * Secret ids the config names (`secrets.*`, `ageIdentitySecret`, `redis[].urlSecret`) that exist already and
   * must not be created: e.g. the lost primary's age identity and application secrets, reused by the stack that
   * protects the recovered database. The stack grants access to them and leaves them as they are.
   */
  existingSecrets: z.array(secretName).default([]),
  /**
   * The VPC a DR stack's Memorystore instances live in and its Redis restore jobs reach them through (Direct VPC
   * egress): `{ network, subnetwork }`, names or self-links. Required in a dr stack that recovers Redis.
   */
  recoveryNetwork: z.strictObject({ network: z.string().min(1), subnetwork: z.string().min(1) }).optional(),
  /** Memorystore for Redis instances a DR stack creates to restore into. */
  memorystore: z
    .strictObject({
      tier: z.enum(['BASIC', 'STANDARD_HA']).default('STANDARD_HA'),
      memorySizeGb: z.number().int().min(1).max(300).default(1),
      redisVersion: z.string().regex(/^REDIS_\d+(_\d+)?$/).default('REDIS_7_2'),
    })
    .default(() => ({ tier: 'STANDARD_HA' as const, memorySizeGb: 1, redisVersion: 'REDIS_7_2' })),
  /** Scheduler retries when the Cloud Run Admin API call fails (the job's own retries are separate). */
  schedulerRetries: nonNegativeInt.max(5).default(2),
});

export const gcpKeys = {
  'gcp:project': z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, { error: 'expected a GCP project id' }).optional(),
  'gcp:region': z.string().regex(/^[a-z]+-[a-z]+\d+$/, { error: 'expected a GCP region like "europe-west1"' }).optional(),
  'lifeboat:gcp': gcpSectionSchema.optional(),
};

export type GcpSection = z.output<typeof gcpSectionSchema>;

export interface GcpConfig extends GcpSection {
  project: string;
  region: string;
}
