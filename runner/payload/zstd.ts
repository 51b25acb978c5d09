/**
 * The non-PostgreSQL tools of the pipelines: the `zstd` CLI. Its multi-threaded compressor runs beside
 * pg_dump (which only compresses single-threaded gzip in PostgreSQL 15), and pipes at OS level.
 */
import { execFile } from 'node:child_process';
import { usageError } from '../errors';

export interface ZstdTool {
  path: string;
  version: string;
}

let cached: Promise<ZstdTool> | undefined;

export function findZstd(): Promise<ZstdTool> {
  cached ??= new Promise<ZstdTool>((resolve, reject) => {
    execFile('zstd', ['--version'], { timeout: 10_000 }, (err, stdout) => {
      if (err) {
        cached = undefined;
        return reject(
          usageError('tool_missing', 'zstd is not installed (payloads are compressed with the zstd CLI)', 'Install it with "apt-get install -y zstd"'),
        );
      }
      const m = /v(\d+\.\d+\.\d+)/.exec(stdout);
      resolve({ path: 'zstd', version: m ? m[1]! : stdout.trim() });
    });
  });
  return cached;
}

/** zstd's level when LIFEBOAT_ZSTD_LEVEL is not set: pgBackRest's default for zst too. */
export const DEFAULT_ZSTD_LEVEL = 3;

/**
 * LIFEBOAT_ZSTD_LEVEL: the payloads' compression level, 1 to 19 (default 3). A CPU-bound backup trades size for
 * time with a lower one: on text, -1 stored 8% more than -3 and took 25% less time here; on mostly random data
 * (md5 text, random bytea) -1 was both smaller and twice as fast. Restores read any level.
 */
export function zstdLevelFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.LIFEBOAT_ZSTD_LEVEL;
  if (raw === undefined || raw === '') return DEFAULT_ZSTD_LEVEL;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 19) {
    throw usageError('zstd_level_invalid', `LIFEBOAT_ZSTD_LEVEL expected a whole number from 1 to 19, got "${raw}"`);
  }
  return n;
}

/**
 * Compression arguments for payloads. Single-threaded on purpose: zstd -3 on one core (~380 MB/s measured here)
 * outruns pg_dump's raw output (~250 MB/s), while -T0's worker buffers cost ~60 MB of RSS for no wall-time gain
 * (540 MB: 1.37 s with -T0 vs 1.41 s single-threaded; 66 MB vs 7 MB peak). Memory is the runner's budget.
 */
export function zstdCompressArgs(level: number = DEFAULT_ZSTD_LEVEL): string[] {
  return ['-q', `-${level}`, '--single-thread', '-c'];
}
