/** Container image references: a DR restore must run exactly the runner it was given, pinned by digest. */

/** The task kinds a DR stack runs (`lifeboat-task` label/tag): restores from the DR copy, started by hand. */
export const RESTORE_TASKS = ['restore', 'redis-restore'] as const;

/** `name@sha256:<64 hex>`: the only reference that cannot move to another image after review. */
export function pinnedByDigest(image: string): boolean {
  return /@sha256:[0-9a-f]{64}$/.test(image);
}
