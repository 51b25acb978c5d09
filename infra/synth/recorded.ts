/**
 * What the offline synth records for each resource, and what the policy runner reads. Shared by infra/synth
 * (producer) and policies (consumer) so both agree on one shape.
 */
export interface RecordedResource {
  urn: string;
  /** Pulumi type token, e.g. `gcp:storage/bucket:Bucket` or `lifeboat:gcp:BackupVault`. */
  type: string;
  name: string;
  /** URN of the parent resource, if any. */
  parent?: string;
  /** Raw inputs as the program set them (secrets stay wrapped/marked as the mocks saw them). */
  inputs: Record<string, unknown>;
  /** URNs this resource depends on. */
  dependencies: string[];
  /** true for provider resources, false for component resources. */
  custom: boolean;
  /** Names of inputs the program marked secret. */
  secretInputs?: string[];
  protect?: boolean;
  /**
   * Provider reference (`<provider urn>::<id>`) when the resource was given an explicit provider, e.g. the DR
   * region's provider; the policy pack reads that provider's inputs (its `region`). Values unknown at preview time
   * are recorded as Pulumi's unknown sentinel (`04da6b54-80e4-46f7-96ec-b56ff0331ba9`) and never reported.
   */
  provider?: string;
  /** `retainOnDelete`: destroying the stack forgets the resource and leaves it in the cloud. */
  retainOnDelete?: boolean;
  /** `ignoreChanges`: input paths an update leaves as the cloud has them. */
  ignoreChanges?: string[];
  /** Id of an existing cloud resource the program adopts (`import` resource option), e.g. an adopted Cloud SQL instance. */
  importId?: string;
}

export interface PolicyViolation {
  policyName: string;
  enforcementLevel: 'advisory' | 'mandatory' | 'remediate' | 'disabled';
  message: string;
  /** URN of the offending resource; absent for stack-level violations with no single resource. */
  urn?: string;
}
