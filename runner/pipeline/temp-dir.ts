/**
 * A private temp folder under LIFEBOAT_TMPDIR (or the OS temp dir) for what a command writes on the way
 * (an archive, a dump in directory format, a TOC head, a Redis snapshot), with its cleanup. A folder that cannot
 * be made is `tmpdir_unwritable` (exit 1), naming the base folder and what it needs room for.
 *
 * A runner killed outright (SIGKILL: an out-of-memory kill, a job deadline) cannot remove its folder, which may
 * hold a whole dump. So folders are named `<prefix><host>-<pid>-XXXXXX`, and making one first removes the
 * folders of the same host whose process is gone. Another host's folders (a shared volume) are never touched:
 * its pids mean nothing here.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runtimeError } from '../errors';

export interface TempDir {
  dir: string;
  cleanup(): Promise<void>;
}

/** The host part of folder names: letters, digits, '.', '_' and '-' only. */
function hostTag(): string {
  return os.hostname().replace(/[^A-Za-z0-9._-]/g, '_') || 'host';
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, under another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes this host's lifeboat temp folders whose runner is gone; returns their paths. */
export async function removeStaleTempDirs(base: string): Promise<string[]> {
  const host = hostTag();
  const pattern = /^lifeboat-[a-z]+-(.+)-(\d+)-[A-Za-z0-9]{6}$/;
  let names: string[];
  try {
    names = await fs.readdir(base);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m || m[1] !== host || Number(m[2]) === process.pid || processAlive(Number(m[2]))) continue;
    const dir = path.join(base, name);
    await fs.rm(dir, { recursive: true, force: true }).then(
      () => removed.push(dir),
      () => undefined,
    );
  }
  return removed;
}

export async function makeTempDir(env: NodeJS.ProcessEnv, prefix: string, roomFor?: string): Promise<TempDir> {
  const base = env.LIFEBOAT_TMPDIR || os.tmpdir();
  await removeStaleTempDirs(base);
  let dir: string;
  try {
    dir = await fs.mkdtemp(path.join(base, `${prefix}${hostTag()}-${process.pid}-`));
  } catch (e) {
    throw runtimeError(
      'tmpdir_unwritable',
      `cannot create a temp folder in ${base} (${(e as NodeJS.ErrnoException).code})`,
      `Set LIFEBOAT_TMPDIR to a writable folder${roomFor ? ` with room for ${roomFor}` : ''}`,
    );
  }
  return { dir, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}
