/**
 * Choosing the PostgreSQL client tools. pg_dump must be at least as new as the server (an older pg_dump
 * refuses, or worse, misses new object kinds); pg_restore must be at least as new as the pg_dump that wrote the
 * archive. Candidates come from /usr/lib/postgresql/<major>/bin (Debian's side-by-side installs) and PATH.
 *
 * - selectTool(candidates, minMajor): pure; the exact major if present, else the lowest newer one, else null.
 * - findTool(name, minMajor, purpose): searches, selects, or throws a clear error naming the package.
 */
import { execFile } from 'node:child_process';
import { readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors';

export interface ToolCandidate {
  path: string;
  /** e.g. "15.18" */
  version: string;
  major: number;
}

export function selectTool(candidates: readonly ToolCandidate[], minMajor: number): ToolCandidate | null {
  const usable = candidates.filter((c) => c.major >= minMajor).sort((a, b) => a.major - b.major);
  return usable.find((c) => c.major === minMajor) ?? usable[0] ?? null;
}

/** "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" → {version "15.18", major 15}; 9.6 → major 9. */
export function parseToolVersion(text: string): { version: string; major: number } | null {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text);
  if (!m) return null;
  const version = [m[1], m[2], m[3]].filter((x) => x !== undefined).join('.');
  return { version, major: Number(m[1]) };
}

/** Server major from server_version_num: 150018 → 15, 90624 → 9. */
export function serverMajor(versionNum: number): number {
  return Math.floor(versionNum / 10000);
}

const VERSIONED_BASE = '/usr/lib/postgresql';
/** Debian's dispatcher (/usr/bin/pg_dump and the others link to it): it runs one of the versioned installs. */
const DEBIAN_WRAPPER = /\/postgresql-common\/pg_wrapper$/;

/** What candidatePaths needs of the filesystem (injected, so the choice is tested without one). */
export interface ToolFs {
  /** The subfolders of /usr/lib/postgresql, or none. */
  majors(): string[];
  /** The real path of a file, or null when there is none. */
  realFile(p: string): string | null;
}

const realFs: ToolFs = {
  majors: () => {
    try {
      return readdirSync(VERSIONED_BASE);
    } catch {
      return [];
    }
  },
  realFile: (p) => {
    try {
      return statSync(p).isFile() ? realpathSync(p) : null;
    } catch {
      return null;
    }
  },
};

/**
 * The files worth asking for their version: each versioned install, then PATH's. One file reached by two paths
 * (/bin is /usr/bin on merged-/usr systems) is asked once. Debian's pg_wrapper only dispatches to one of the
 * versioned installs, which are candidates already: asking it too is a Perl start (~40 ms) at every command.
 */
export function candidatePaths(name: string, env: NodeJS.ProcessEnv, fs: ToolFs = realFs): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (p: string): void => {
    const real = fs.realFile(p);
    if (real === null || seen.has(real) || (DEBIAN_WRAPPER.test(real) && out.length > 0)) return;
    seen.add(real);
    out.push(p);
  };
  for (const d of fs.majors()) add(path.join(VERSIONED_BASE, d, 'bin', name));
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir) add(path.join(dir, name));
  }
  return out;
}

function versionOf(file: string): Promise<ToolCandidate | null> {
  return new Promise((resolve) => {
    execFile(file, ['--version'], { timeout: 10_000 }, (err, stdout) => {
      if (err) return resolve(null);
      const v = parseToolVersion(stdout);
      resolve(v ? { path: file, ...v } : null);
    });
  });
}

const cache = new Map<string, Promise<ToolCandidate[]>>();

export function installedTools(name: string, env: NodeJS.ProcessEnv = process.env): Promise<ToolCandidate[]> {
  const key = `${name}\0${env.PATH ?? ''}`;
  let p = cache.get(key);
  if (!p) {
    p = Promise.all(candidatePaths(name, env).map(versionOf)).then((xs) => xs.filter((x): x is ToolCandidate => x !== null));
    cache.set(key, p);
  }
  return p;
}

/**
 * An installed `name` whose major is >= minMajor. `purpose` completes the error, e.g. "the server runs
 * PostgreSQL 16.2".
 */
export async function findTool(name: string, minMajor: number, purpose: string, env?: NodeJS.ProcessEnv): Promise<ToolCandidate> {
  const all = await installedTools(name, env);
  const chosen = selectTool(all, minMajor);
  if (!chosen) {
    const found = all.length ? all.map((c) => c.version).join(', ') : 'none';
    throw usageError(
      'tool_missing',
      `no ${name} of PostgreSQL ${minMajor} or newer is installed (${purpose}; found: ${found})`,
      `Install it with "apt-get install -y postgresql-client-${minMajor}" (Debian/Ubuntu, PGDG repository)`,
    );
  }
  return chosen;
}
