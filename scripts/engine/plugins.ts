/**
 * The plugins written in TypeScript, as executables in the engine's bin folder, which only `npm run engine` and
 * test/engine put on PATH: the Node.js language host (scripts/engine/language-host) and the TEST DOUBLE providers
 * (scripts/engine/test-double), one `pulumi-resource-<pkg>` per doubled package. The engine finds plugins on PATH
 * before its plugin cache, and automatic plugin downloads are off, so nothing real is reached.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DOUBLED_PACKAGES } from './test-double/provider';
import { REPO_ROOT, type EnginePaths } from './paths';

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function writeNodePlugin(file: string, comment: string, main: string, args: string[]): void {
  writeFileSync(
    file,
    [
      '#!/bin/sh',
      `# ${comment}`,
      // From the repository, so `--import tsx` resolves; the engine talks to it over the address it prints.
      `cd ${shellQuote(REPO_ROOT)} || exit 1`,
      `exec ${shellQuote(process.execPath)} --import tsx ${shellQuote(main)} ${args.join(' ')} "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(file, 0o755);
}

export function writeNodePlugins(p: EnginePaths): void {
  writeNodePlugin(
    p.languageHost,
    'Lifeboat\'s Node.js language host (scripts/engine/language-host): runs @pulumi/pulumi\'s own cmd/run.',
    path.join(REPO_ROOT, 'scripts', 'engine', 'language-host', 'main.ts'),
    [],
  );
  const main = path.join(REPO_ROOT, 'scripts', 'engine', 'test-double', 'main.ts');
  for (const pkg of DOUBLED_PACKAGES) {
    writeNodePlugin(
      path.join(p.bin, `pulumi-resource-${pkg}`),
      `TEST DOUBLE of the ${pkg} provider (scripts/engine/test-double): accepts every input, reaches nothing.`,
      main,
      [pkg],
    );
  }
}
