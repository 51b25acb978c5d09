/**
 * Reading resource inputs safely. A rule must never report a value that is unknown at preview time (an output of
 * a resource not yet created), and must tell "unknown" apart from "not set": the first is skipped, the second is
 * usually a violation. `at()` returns the UNKNOWN symbol for the former and `undefined` for the latter.
 */

/** Returned by `at()` when a value (or one of its containers) is not known yet. */
export const UNKNOWN: unique symbol = Symbol('unknown at preview time');
export type Unknown = typeof UNKNOWN;

/**
 * The sentinels Pulumi puts in place of unknown values: `unknownValue` of @pulumi/pulumi's runtime (the mocks and
 * the engine's wire format) and the typed sentinels @pulumi/policy's deserializer produces. Copied as strings
 * because neither package exports them publicly.
 */
const UNKNOWN_SENTINELS = new Set<string>([
  '04da6b54-80e4-46f7-96ec-b56ff0331ba9', // string (also @pulumi/pulumi runtime.unknownValue)
  '1c4a061d-8072-4f0a-a4cb-0ff528b18fe7', // boolean
  '3eeb2bf0-c639-47a8-9e75-3b44932eb421', // number
  '6a19a0b0-7e62-4c92-b797-7f8e31da9cc2', // array
  '030794c1-ac77-496b-92df-f27374a8bd58', // asset
  'e48ece36-62e2-4504-bad9-02848725956a', // archive
  'dd056dcd-154b-4c76-9bd3-c8f88648b5ff', // object
]);

/** @pulumi/policy wraps props in a proxy that throws on unknowns; this key returns the plain object behind it. */
const PROXY_TARGET = '__getSpecialProxyTarget';

export function isUnknown(value: unknown): value is Unknown | string {
  return value === UNKNOWN || (typeof value === 'string' && UNKNOWN_SENTINELS.has(value));
}

/** The plain object behind @pulumi/policy's unknown-checking proxy (or the value itself). */
export function unwrap<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    const target = (value as Record<string, unknown>)[PROXY_TARGET];
    if (target !== undefined && target !== true) return target as T;
  }
  return value;
}

/** The value at a path of keys / indexes; UNKNOWN if it or any container on the way is unknown. */
export function at(root: unknown, ...path: (string | number)[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (isUnknown(cur)) return UNKNOWN;
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return isUnknown(cur) ? UNKNOWN : cur;
}

/** The elements of an array input; UNKNOWN if the array is unknown, [] if absent. Unknown elements stay UNKNOWN. */
export function list(value: unknown): unknown[] | Unknown {
  if (isUnknown(value)) return UNKNOWN;
  if (!Array.isArray(value)) return [];
  return value.map((v) => (isUnknown(v) ? UNKNOWN : v));
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A number given as a number or a numeric string (GCS retentionPeriod is a string of seconds). */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/** Parses a JSON string input (IAM policy documents, ECS container definitions); UNKNOWN / undefined pass through. */
export function parseJsonInput(value: unknown): unknown {
  if (isUnknown(value)) return UNKNOWN;
  if (typeof value !== 'string') return value;
  // An interpolated string that contains an unknown cannot be parsed meaningfully: treat the whole as unknown.
  for (const s of UNKNOWN_SENTINELS) if (value.includes(s)) return UNKNOWN;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** Whether a (parsed) value contains an unknown anywhere inside. */
export function containsUnknown(value: unknown): boolean {
  if (isUnknown(value)) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (isRecord(value)) return Object.values(value).some(containsUnknown);
  return false;
}
