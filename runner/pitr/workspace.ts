/**
 * A drill's private folder (the restored data directory, the throwaway server's socket and log) and what makes
 * sure it never outlives the drill:
 *
 * - a watchdog: a detached `sh` holding the read end of a pipe from the runner. The pipe closes when the runner
 *   exits, however it exits (SIGKILL included: the kernel closes its descriptors); the watchdog then stops every
 *   process the drill recorded (pgBackRest, the server) and removes the folder. A clean end removes the folder
 *   itself first, so the watchdog finds nothing to do. Linux's PR_SET_PDEATHSIG is not reachable from Node, and
 *   it would only cover direct children; the pipe covers the server too, which runs as another user.
 * - `runner.pid` in the folder: the next drill removes folders whose runner is gone (a host that lost power, a
 *   watchdog killed along with the runner) and says so.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runtimeError } from '../errors';
import type { OsUser } from './os-user';

export const DRILL_DIR_PREFIX = 'lifeboat-pitr-drill-';
/** `pitr restore` runs recovery with a server whose socket and log live in such a folder (the data stays put). */
export const RESTORE_DIR_PREFIX = 'lifeboat-pitr-restore-';
const PREFIXES = [DRILL_DIR_PREFIX, RESTORE_DIR_PREFIX];

export interface DrillWorkspace {
  dir: string;
  dataDir: string;
  /** Records a process the watchdog must stop if the runner dies: SIGQUIT for a postmaster, SIGTERM otherwise. */
  track(pid: number, signal: 'QUIT' | 'TERM'): void;
  /** Removes the folder and dismisses the watchdog. Idempotent. */
  remove(): Promise<void>;
}

/**
 * Stops the recorded processes (their signal, then SIGKILL after 10 s) and removes the folder: run by the
 * watchdog once the runner's end of the pipe closes, and by the next drill for a runner that is gone. A pid is
 * only signalled while its command line names the folder, so a pid reused by another program is left alone.
 */
const CLEANUP_SCRIPT = `
dir="$1"
[ -d "$dir" ] || exit 0
ours() { tr '\\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -qF "$dir"; }
if [ -f "$dir/pids" ]; then
  while read -r pid sig; do ours "$pid" && kill -s "$sig" "$pid" 2>/dev/null; done < "$dir/pids"
  i=0
  while [ $i -lt 100 ]; do
    alive=0
    while read -r pid sig; do ours "$pid" && alive=1; done < "$dir/pids"
    [ $alive -eq 0 ] && break
    sleep 0.1; i=$((i + 1))
  done
  while read -r pid sig; do ours "$pid" && kill -s KILL "$pid" 2>/dev/null; done < "$dir/pids"
fi
rm -rf "$dir"
`;

const WATCHDOG_SCRIPT = `cat >/dev/null 2>&1\n${CLEANUP_SCRIPT}`;

function baseDir(env: NodeJS.ProcessEnv): string {
  return env.LIFEBOAT_TMPDIR || os.tmpdir();
}

/** The kernel's start time of a process (field 22 of /proc/<pid>/stat), so a reused pid is not taken for ours. */
function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

export async function openDrillWorkspace(env: NodeJS.ProcessEnv, owner: OsUser, prefix = DRILL_DIR_PREFIX): Promise<DrillWorkspace> {
  const base = baseDir(env);
  let dir: string;
  try {
    dir = await fs.mkdtemp(path.join(base, prefix));
  } catch (e) {
    throw runtimeError('tmpdir_unwritable', `cannot create a temp folder in ${base} (${(e as NodeJS.ErrnoException).code})`, 'Set LIFEBOAT_TMPDIR to a writable folder with room for the restored cluster');
  }
  let watchdog: ChildProcess | undefined;
  const removeDir = (): Promise<void> => fs.rm(dir, { recursive: true, force: true });
  try {
    await fs.writeFile(path.join(dir, 'runner.pid'), `${process.pid} ${startTimeOf(process.pid) ?? ''}\n`);
    await fs.writeFile(path.join(dir, 'pids'), '');
    watchdog = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'lifeboat-pitr-watchdog', dir], { detached: true, stdio: ['pipe', 'ignore', 'ignore'], cwd: '/' });
    await new Promise<void>((resolve, reject) => {
      watchdog!.once('spawn', resolve);
      watchdog!.once('error', reject);
    });
    // Neither the watchdog nor our end of its pipe may keep the runner alive.
    watchdog.unref();
    (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
    await owner.chown(dir);
    await fs.chmod(dir, 0o700);
  } catch (e) {
    watchdog?.stdin?.destroy();
    await removeDir();
    throw runtimeError('drill_workspace_failed', `cannot prepare the drill's temp folder in ${base}: ${(e as Error).message}`);
  }
  const dataDir = path.join(dir, 'data');
  let removed = false;
  return {
    dir,
    dataDir,
    // Synchronous: the pid is on disk before anything else can happen to the runner.
    track(pid, signal) {
      appendFileSync(path.join(dir, 'pids'), `${pid} ${signal}\n`);
    },
    async remove() {
      if (removed) return;
      removed = true;
      await removeDir();
      watchdog?.stdin?.end();
    },
  };
}

/** Runs the cleanup script on a folder now and waits for it. */
function cleanNow(dir: string): Promise<void> {
  return new Promise((resolve) => {
    const c = spawn('/bin/sh', ['-c', CLEANUP_SCRIPT, 'lifeboat-pitr-cleanup', dir], { stdio: 'ignore', cwd: '/' });
    c.once('close', () => resolve());
    c.once('error', () => resolve());
  });
}

/** Removes the folders of drills whose runner is gone; returns what it removed. */
export async function removeStaleDrills(env: NodeJS.ProcessEnv): Promise<string[]> {
  const base = baseDir(env);
  let names: string[];
  try {
    names = await fs.readdir(base);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names.filter((n) => PREFIXES.some((p) => n.startsWith(p)))) {
    const dir = path.join(base, name);
    let owner: string;
    try {
      owner = await fs.readFile(path.join(dir, 'runner.pid'), 'utf8');
    } catch (e) {
      // A folder without runner.pid is one being created right now, or not ours to judge: unless it is old.
      const st = await fs.stat(dir).catch(() => null);
      if (!st || Date.now() - st.mtimeMs < 3600_000 || (e as NodeJS.ErrnoException).code !== 'ENOENT') continue;
      owner = '';
    }
    const [pidText, started] = owner.trim().split(' ');
    const pid = Number(pidText);
    if (pid > 0 && startTimeOf(pid) !== null && (!started || startTimeOf(pid) === started)) continue;
    await cleanNow(dir);
    removed.push(dir);
  }
  return removed;
}
