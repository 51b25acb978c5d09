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
