/**
 * ECR image references as data: which account, region and repository an image lives in, and the same image (same
 * digest) in another region's registry. ECR replication keeps the digest, so a digest the primary region runs is
 * the digest to pin in the DR region.
 */

export interface EcrImage {
  account: string;
  region: string;
  repository: string;
  /** `sha256:<hex>` when the reference is pinned by digest. */
  digest?: string;
  tag?: string;
}

const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9][a-z0-9._/-]*?)(?:@(sha256:[0-9a-f]{64})|:([\w][\w.-]{0,127}))?$/;

/** The parts of an ECR image reference; undefined for an image in any other registry. */
export function parseEcrImage(image: string): EcrImage | undefined {
  const m = ECR_IMAGE.exec(image);
  if (!m) return undefined;
  return { account: m[1]!, region: m[2]!, repository: m[3]!, ...(m[4] ? { digest: m[4] } : {}), ...(m[5] ? { tag: m[5] } : {}) };
}

/** Whether an image reference (any registry) is pinned by digest. */
export function pinnedByDigest(image: string): boolean {
  return /@sha256:[0-9a-f]{64}$/.test(image);
}

/** The same ECR image in another region's registry of the same account (what ECR replication creates). */
export function ecrImageInRegion(image: string, region: string): string | undefined {
  const e = parseEcrImage(image);
  if (!e) return undefined;
  const ref = e.digest ? `@${e.digest}` : e.tag ? `:${e.tag}` : '';
  return `${e.account}.dkr.ecr.${region}.amazonaws.com/${e.repository}${ref}`;
}

/** The registry replication rule that copies one repository into the DR region (aws.ecr.ReplicationConfiguration). */
export function ecrReplicationRules(accountId: string, repository: string, drRegion: string) {
  return {
    rules: [
      {
        destinations: [{ region: drRegion, registryId: accountId }],
        repositoryFilters: [{ filter: repository, filterType: 'PREFIX_MATCH' }],
      },
    ],
  };
}
