/**
 * Choosing the PostgreSQL client tools. pg_dump must be at least as new as the server (an older pg_dump
 * refuses, or worse, misses new object kinds); pg_restore must be at least as new as the pg_dump that wrote the
 * archive. Candidates come from /usr/lib/postgresql/<major>/bin (Debian's side-by-side installs) and PATH.
 *
 * - selectTool(candidates, minMajor): pure; the exact major if present, else the lowest newer one, else null.
 * - findTool(name, minMajor, purpose): searches, selects, or throws a clear error naming the package.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
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

function candidatePaths(name: string, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    for (const d of readdirSync(base)) {
      const p = path.join(base, d, 'bin', name);
      if (existsSync(p)) out.push(p);
    }
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      if (statSync(p).isFile() && !out.includes(p)) out.push(p);
    } catch {
      /* not there */
    }
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
