/**
 * The Pulumi program: the only place that reads stack config, builds the components (through the platform
 * adapter) and exports outputs. Bad config throws a ConfigError naming every bad key before any resource exists.
 */
import { readStackConfig } from './config/load';
import type { BuildPlatform, StackOutputs } from './platforms/types';

function adapter(platform: string): BuildPlatform {
  // Loaded on demand, so a stack only pays for (and can only break on) its own platform's providers.
  switch (platform) {
    case 'gcp':
      return (require('./platforms/gcp') as typeof import('./platforms/gcp')).build;
    case 'aws':
      return (require('./platforms/aws') as typeof import('./platforms/aws')).build;
    case 'kubernetes':
      return (require('./platforms/kubernetes') as typeof import('./platforms/kubernetes')).build;
    default:
      throw new Error(`unknown platform ${platform}`);
  }
}

function main(): StackOutputs {
  const cfg = readStackConfig();
  return adapter(cfg.platform)(cfg);
}

export = main();
