/** Platform adapter for kubernetes: not built yet (issue 6 replaces this file). */
import { ConfigError, type LifeboatConfig } from '../config/load';
import type { StackOutputs } from './types';

export function build(cfg: LifeboatConfig): StackOutputs {
  throw new ConfigError(cfg.stack, [
    'lifeboat:platform: expected a supported platform ("gcp"); "kubernetes" is not yet supported, got "kubernetes"',
  ]);
}
