/** Platform adapter for GCP: builds the components from the config (filled in component by component). */
import type { LifeboatConfig } from '../config/load';
import type { StackOutputs } from './types';

export function build(cfg: LifeboatConfig): StackOutputs {
  return { platform: cfg.platform, environment: cfg.environment };
}
