/**
 * How many bytes a process and its children have read so far, from Linux's /proc/<pid>/io (`rchar`). pg_restore
 * reads its archive file once, spread over its parallel workers (child processes), so the sum against the
 * archive's size is the restore's progress. pg_restore has no byte progress of its own, and parsing its
 * --verbose chatter would mix with its warnings. Where /proc is missing (not Linux) the answer is null and
 * no progress is shown.
 */
import { readFileSync } from 'node:fs';

function rchar(pid: number): number {
  const m = /^rchar:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Bytes read by `pid` and its descendants; null when they cannot be told. */
export function treeBytesRead(pid: number): number | null {
  try {
    let total = rchar(pid);
    for (const c of children(pid)) total += treeBytesRead(c) ?? 0;
    return total;
  } catch {
    return null;
  }
}
