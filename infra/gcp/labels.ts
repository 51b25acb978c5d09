/**
 * Label conventions shared with the policy pack (policies/lib/conventions.ts): `lifeboat-role`, `lifeboat-source`,
 * `lifeboat-task`, `lifeboat-alert`, `lifeboat-ephemeral`.
 */
export function lifeboatLabels(base: Record<string, string>, ephemeral: boolean, extra: Record<string, string> = {}): Record<string, string> {
  return { ...base, 'lifeboat-ephemeral': ephemeral ? 'true' : 'false', ...extra };
}

/** Throws a ResourceError-friendly message when a required argument is missing or empty. */
export function requireArg(component: string, name: string, value: unknown): void {
  if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) {
    throw new Error(`${component}: argument "${name}" is required, got ${JSON.stringify(value)}`);
  }
}
