import type { Subject } from './rule';
import { UNKNOWN, at, list } from './values';

export const POD_SPEC = ['spec', 'jobTemplate', 'spec', 'template', 'spec'] as const;

/** Containers and init containers of a CronJob's pod template; UNKNOWN if the lists are not known yet. */
export function podContainers(r: Subject): unknown[] | typeof UNKNOWN {
  const containers = list(at(r.props, ...POD_SPEC, 'containers'));
  const inits = list(at(r.props, ...POD_SPEC, 'initContainers'));
  if (containers === UNKNOWN || inits === UNKNOWN) return UNKNOWN;
  return [...containers, ...inits];
}
