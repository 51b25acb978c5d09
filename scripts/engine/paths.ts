/**
 * Where the engine lives: the Pulumi CLI, built from source at the version of @pulumi/pulumi in package.json, and
 * the plugins written in TypeScript (language host, test-double providers), in a gitignored folder keyed by it.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The @pulumi/pulumi version package.json pins: the CLI must be the same release as the Node.js SDK. */
export function pulumiVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const v = pkg.dependencies['@pulumi/pulumi'];
  if (!/^\d+\.\d+\.\d+$/.test(v)) throw new Error(`package.json must pin @pulumi/pulumi to an exact version, got ${v}`);
  return v;
}

export interface EnginePaths {
  version: string;
  /** .cache/engine/pulumi-<version>/ */
  dir: string;
  /** Put first on PATH: pulumi, pulumi-language-nodejs and the test-double pulumi-resource-* wrappers. */
  bin: string;
  pulumi: string;
  languageHost: string;
  /** The Go wrapper module that pins the CLI's dependencies. */
  goModule: string;
}

export function enginePaths(version = pulumiVersion()): EnginePaths {
  const dir = path.join(REPO_ROOT, '.cache', 'engine', `pulumi-${version}`);
  const bin = path.join(dir, 'bin');
  return {
    version,
    dir,
    bin,
    pulumi: path.join(bin, 'pulumi'),
    languageHost: path.join(bin, 'pulumi-language-nodejs'),
    goModule: path.join(REPO_ROOT, 'scripts', 'engine', 'go'),
  };
}

/** Why the engine is not usable yet, or undefined when the CLI is built and the plugins written. */
export function engineMissing(p: EnginePaths = enginePaths()): string | undefined {
  const absent = [p.pulumi, p.languageHost].filter((f) => !existsSync(f));
  if (absent.length === 0) return undefined;
  return (
    `the Pulumi engine ${p.version} is not built (missing ${absent.map((f) => path.relative(REPO_ROOT, f)).join(', ')}): ` +
    'run `npm run engine -- build` (needs the Go toolchain, go 1.25 or newer, and the Go module proxy)'
  );
}
