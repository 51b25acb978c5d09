import type { LifeboatConfig } from '../config/load';

/** What a platform adapter returns: the stack outputs (values or Outputs). */
export type StackOutputs = Record<string, unknown>;

/** Every platform adapter (infra/platforms/<platform>.ts) exports one of these as `build`. */
export type BuildPlatform = (cfg: LifeboatConfig) => StackOutputs;
