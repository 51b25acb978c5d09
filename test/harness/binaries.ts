/**
 * Locating the server binaries the integration tests need. A missing binary fails the test with the Debian
 * package to install; it never silently skips.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

export class MissingBinaryError extends Error {
  constructor(binary: string, pkg: string) {
    super(`${binary} not found: install it with "apt-get install -y ${pkg}" (Debian/Ubuntu package ${pkg})`);
    this.name = 'MissingBinaryError';
  }
}

/** The newest /usr/lib/postgresql/<major>/bin holding a server (initdb + postgres). */
export function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  const majors = existsSync(base)
    ? readdirSync(base)
        .filter((d) => /^\d+$/.test(d) && existsSync(path.join(base, d, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0) throw new MissingBinaryError('PostgreSQL server (initdb, postgres, pg_ctl)', 'postgresql');
  return path.join(base, majors[0]!, 'bin');
}

/** Absolute path of a program on PATH, or a MissingBinaryError naming the package. */
export function requireOnPath(binary: string, pkg: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new MissingBinaryError(binary, pkg);
  }
}
