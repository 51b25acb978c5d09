/**
 * A private temp folder under LIFEBOAT_TMPDIR (or the OS temp dir) for what a command writes on the way
 * (an archive, a dump in directory format, a TOC head), with its cleanup. A folder that cannot be made is
 * `tmpdir_unwritable` (exit 1), naming the base folder and what it needs room for.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runtimeError } from '../errors';

export interface TempDir {
  dir: string;
  cleanup(): Promise<void>;
}

export async function makeTempDir(env: NodeJS.ProcessEnv, prefix: string, roomFor?: string): Promise<TempDir> {
  const base = env.LIFEBOAT_TMPDIR || os.tmpdir();
  let dir: string;
  try {
    dir = await fs.mkdtemp(path.join(base, prefix));
  } catch (e) {
    throw runtimeError(
      'tmpdir_unwritable',
      `cannot create a temp folder in ${base} (${(e as NodeJS.ErrnoException).code})`,
      `Set LIFEBOAT_TMPDIR to a writable folder${roomFor ? ` with room for ${roomFor}` : ''}`,
    );
  }
  return { dir, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}
