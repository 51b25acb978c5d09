/**
 * The runner built the way runner/Dockerfile builds it, outside a container: `tsc -p runner/tsconfig.build.json`
 * into <dir>/dist, next to a <dir>/node_modules holding only the production packages the image keeps (links into
 * the repository's node_modules), and the image's ENTRYPOINT with /app replaced by <dir>.
 */
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, entrypoint, packagesExcludedFromImage, readDockerfile } from './dockerfile-model';

export interface RunnerBuild {
  /** Plays the image's /app. */
  dir: string;
  /** The image's ENTRYPOINT, rewritten to this build (tini, node, <dir>/dist/runner/cli.js). */
  entrypoint: string[];
  remove(): void;
}

/** Top-level packages `npm ci --omit=dev` installs, minus those the Dockerfile's deps stage uninstalls. */
export function imagePackages(): string[] {
  const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
  };
  const excluded = new Set(packagesExcludedFromImage(readDockerfile()));
  return Object.entries(lock.packages)
    .filter(([key, meta]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(key) && !meta.dev)
    .map(([key]) => key.slice('node_modules/'.length))
    .filter((name) => !excluded.has(name));
}

export function buildRunnerLikeImage(): RunnerBuild {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-image-'));
  chmodSync(dir, 0o755);
  const tsc = spawnSync(
    process.execPath,
    [path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'runner/tsconfig.build.json', '--outDir', path.join(dir, 'dist')],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  if (tsc.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`tsc -p runner/tsconfig.build.json failed (the image build would too):\n${tsc.stdout}${tsc.stderr}`);
  }
  const modules = path.join(dir, 'node_modules');
  mkdirSync(modules);
  for (const name of imagePackages()) {
    const target = path.join(REPO_ROOT, 'node_modules', name);
    const link = path.join(modules, name);
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(target, link, 'dir');
  }
  const ep = entrypoint(readDockerfile()).map((a) => (a.startsWith('/app/') ? path.join(dir, a.slice('/app/'.length)) : a));
  // The image's `node` is the base image's; here it is the one running the tests.
  const rewritten = ep.map((a) => (a === 'node' ? process.execPath : a));
  return { dir, entrypoint: rewritten, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the entrypoint with `args` and resolves when it exits. */
export function runEntrypoint(build: RunnerBuild, args: string[], opts: SpawnOptions = {}): Promise<RunResult> {
  return collect(startEntrypoint(build, args, opts));
}

export function startEntrypoint(build: RunnerBuild, args: string[], opts: SpawnOptions = {}) {
  const [cmd, ...rest] = build.entrypoint;
  return spawn(cmd!, [...rest, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

export function collect(child: ReturnType<typeof spawn>): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** JSON lines of a run's stderr (the structured log), ignoring anything else. */
export function jsonLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a log line
    }
  }
  return out;
}

/** The environment of a job container: no inherited secrets, temp files in TMPDIR, HOME unwritable. */
export function jobEnv(tmpDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    TMPDIR: tmpDir,
    LIFEBOAT_TMPDIR: tmpDir,
    HOME: '/nonexistent',
    NODE_ENV: 'production',
    // In the container tini is PID 1; here it is not, so it registers as a subreaper to reap the same way.
    TINI_SUBREAPER: '1',
    ...extra,
  };
}

/** As root, job processes run as `nobody` (the image never runs as root); otherwise as the current user. */
export function jobUser(): { uid?: number; gid?: number } {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  return { uid: 65534, gid: 65534 };
}
