/** A minimal valid GCP stack, keyed as a stack file is. */
export function gcpRaw(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'lifeboat:platform': 'gcp',
    'gcp:project': 'acme-prod',
    'gcp:region': 'europe-west1',
    'lifeboat:gcp': { bucketLocation: 'EUR4' },
    'lifeboat:drRegion': 'europe-north1',
    'lifeboat:runnerImage': 'europe-docker.pkg.dev/acme/lifeboat/runner@sha256:' + 'a'.repeat(64),
    'lifeboat:databases': [{ name: 'orders', instance: { mode: 'adopt', name: 'orders-pg' } }],
    'lifeboat:alerts': { emails: ['oncall@example.com'] },
    ...over,
  };
}
