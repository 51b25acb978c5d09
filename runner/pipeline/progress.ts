/**
 * One updating progress line on a terminal: bytes, rate and ETA. Off a terminal it prints nothing (job logs
 * should not fill with carriage returns). Redrawn at most every 200 ms.
 */
import type { Output } from '../context';

export interface Progress {
  update(bytes: number): void;
  /** Clears the line. */
  done(): void;
}

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

function humanSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function createProgress(out: Output, label: string, expectedBytes: number | undefined, now: () => number = Date.now): Progress {
  if (!out.isTTY) return { update() {}, done() {} };
  const start = now();
  let last = 0;
  let drawn = false;
  return {
    update(bytes: number) {
      const t = now();
      if (t - last < 200) return;
      last = t;
      const secs = (t - start) / 1000;
      const rate = secs > 0 ? bytes / secs : 0;
      let line = `${label}: ${humanBytes(bytes)}  ${humanBytes(Math.round(rate))}/s`;
      if (expectedBytes && expectedBytes > 0 && rate > 0) {
        const pct = Math.min(99, Math.floor((bytes / expectedBytes) * 100));
        line += `  ${pct}%  ETA ${humanSeconds(Math.max(0, expectedBytes - bytes) / rate)}`;
      }
      out.write(`\r${line}\x1b[K`);
      drawn = true;
    },
    done() {
      if (drawn) out.write('\r\x1b[K');
    },
  };
}
