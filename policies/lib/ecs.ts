import type { Subject } from './rule';
import { UNKNOWN, at, isRecord, parseJsonInput } from './values';

/** The container definitions of an ECS task definition (a JSON string input); UNKNOWN until known. */
export function containerDefinitions(r: Subject): Record<string, unknown>[] | typeof UNKNOWN {
  const parsed = parseJsonInput(at(r.props, 'containerDefinitions'));
  if (parsed === UNKNOWN) return UNKNOWN;
  return Array.isArray(parsed) ? parsed.filter(isRecord) : [];
}
