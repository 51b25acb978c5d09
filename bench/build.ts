/** The runner compiled as in its container image (tsc, runner/tsconfig.build.json), run with plain node. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CACHE } from './dataset';
import { imageEnv, readDockerfile } from '../test/delivery/dockerfile-model';

/** NODE_OPTIONS of the runner's image (runner/Dockerfile), so the bench runs node as production does. */
export const RUNNER_NODE_OPTIONS = imageEnv(readDockerfile()).NODE_OPTIONS ?? '';

const ROOT = path.resolve(__dirname, '..');
export const DIST = path.join(CACHE, 'dist');

export function buildRunner(log: (s: string) => void): string {
  log('build: tsc -p runner/tsconfig.build.json (as in the image) ...');
  // Type errors elsewhere in a work-in-progress tree do not stop tsc from emitting; the entrypoint must exist.
  spawnSync('npx', ['tsc', '-p', 'runner/tsconfig.build.json', '--outDir', DIST], { cwd: ROOT, stdio: 'ignore' });
  const cli = path.join(DIST, 'runner', 'cli.js');
  if (!existsSync(cli)) throw new Error(`tsc did not produce ${cli}`);
  return cli;
}
