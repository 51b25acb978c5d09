/**
 * Waivers: `[{ pattern, reason }]` in a policy's config. The pattern is a glob (`*` any run of characters, `?` one
 * character) matched against the resource's logical name, or its whole URN. Written by hand because it is ten
 * lines and the pack should load with no dependency beyond @pulumi/policy.
 */
import { isRecord } from './values';

export interface Waiver {
  pattern: string;
  reason?: string;
}

export interface WaiverMatch {
  pattern: string;
  /** undefined when the waiver has no (non-blank) reason: such a waiver is an error and is not applied. */
  reason: string | undefined;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

export function findWaiver(waivers: unknown, name: string, urn: string): WaiverMatch | undefined {
  if (!Array.isArray(waivers)) return undefined;
  let unreasoned: WaiverMatch | undefined;
  for (const w of waivers) {
    if (!isRecord(w) || typeof w.pattern !== 'string' || w.pattern === '') continue;
    const re = globToRegExp(w.pattern);
    if (!re.test(name) && !re.test(urn)) continue;
    const reason = typeof w.reason === 'string' && w.reason.trim() !== '' ? w.reason : undefined;
    if (reason !== undefined) return { pattern: w.pattern, reason };
    unreasoned ??= { pattern: w.pattern, reason: undefined };
  }
  return unreasoned;
}
