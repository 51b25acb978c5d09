/**
 * Whether two storage locations can fail together. GCS locations are regions (europe-west1), predefined
 * dual-regions (EUR4) or multi-regions (EU); a DR copy must not share any region with the primary.
 */
const DUAL_REGIONS: Record<string, string[]> = {
  ASIA1: ['asia-northeast1', 'asia-northeast2'],
  EUR4: ['europe-north1', 'europe-west4'],
  EUR5: ['europe-west1', 'europe-west2'],
  NAM4: ['us-central1', 'us-east1'],
};
const MULTI_REGIONS: Record<string, string> = { US: 'us-', EU: 'europe-', ASIA: 'asia-' };

function regionSet(location: string): { regions: string[]; prefix?: string } {
  const upper = location.toUpperCase();
  if (MULTI_REGIONS[upper]) return { regions: [], prefix: MULTI_REGIONS[upper] };
  if (DUAL_REGIONS[upper]) return { regions: DUAL_REGIONS[upper] };
  return { regions: [location.toLowerCase()] };
}

export function locationsOverlap(a: string, b: string): boolean {
  if (a.toLowerCase() === b.toLowerCase()) return true;
  const x = regionSet(a);
  const y = regionSet(b);
  if (x.prefix && y.prefix) return x.prefix === y.prefix;
  if (x.prefix) return y.regions.some((r) => r.startsWith(x.prefix!));
  if (y.prefix) return x.regions.some((r) => r.startsWith(y.prefix!));
  return x.regions.some((r) => y.regions.includes(r));
}
