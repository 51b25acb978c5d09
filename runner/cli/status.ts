/** `lifeboat status`: flags → runner/commands/status.ts; exit 1 when any source is unhealthy. */
import { Option, type Command } from 'commander';
import { ENV } from '../contract/env';
import { EVENTS } from '../contract/events';
import type { RunContext } from '../context';
import { usageError } from '../errors';
import { DEFAULT_HEALTH_RULE, status, type HealthRule } from '../commands/status';
import { runAction } from './action';
import { addStorageOptions, openStorageFrom, type StorageFlags } from './options';
import { parseCount, parseFilter } from './prune';

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** "26h", "90m", "1h30m", "2d", "3600" (seconds) → seconds; a usage error naming the flag otherwise. */
export function parseDuration(flag: string, value: string): number {
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const parts = [...v.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== v) {
    throw usageError('bad_flag', `${flag} expected a duration like 26h, 90m, 1h30m or 2d, got "${value}"`);
  }
  return Math.round(parts.reduce((n, p) => n + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0));
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** "1048576", "500MB", "2GiB" → bytes. */
export function parseBytes(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw usageError('bad_flag', `${flag} expected a size in bytes (e.g. 1048576, 500MB, 2GiB), got "${value}"`);
  return Math.round(Number(m[1]) * unit);
}

export function parseRatio(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d*\.?\d+$/.test(value.trim()) || !(n > 0 && n <= 1)) {
    throw usageError('bad_flag', `${flag} expected a fraction greater than 0 and at most 1 (e.g. 0.5), got "${value}"`);
  }
  return n;
}

interface StatusFlags extends StorageFlags {
  maxAge: string;
  minSize?: string;
  minRatio?: string;
  recent: string;
  engine?: string;
  source?: string;
  json?: boolean;
}

export function registerStatus(program: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const cmd = program.command('status');
  addStorageOptions(cmd);
  cmd
    .description('health of the newest backup of every source (age and size); exits 1 when any is unhealthy')
    .option('--max-age <duration>', 'newest backup older than this is unhealthy', '26h')
    .option('--min-size <bytes>', 'newest backup smaller than this is unhealthy (instead of --min-ratio)')
    .option('--min-ratio <fraction>', 'newest backup smaller than this fraction of the recent median is unhealthy (default 0.5)')
    .option('--recent <n>', 'how many earlier backups the median is taken over', String(DEFAULT_HEALTH_RULE.recent))
    .option('--engine <engine>', 'only this engine (postgres or redis)')
    .addOption(new Option('--source <name>', 'only this source').env(ENV.source))
    .option('--json', 'print the report as JSON')
    .action(async (flags: StatusFlags) => {
      const code = await runAction(ctx, { succeeded: EVENTS.statusHealthy, failed: EVENTS.statusUnhealthy }, { source: flags.source }, async () => {
        if (flags.minSize !== undefined && flags.minRatio !== undefined) {
          throw usageError('bad_flag', '--min-size and --min-ratio exclude each other, got both', 'Pass one size check');
        }
        const rule: HealthRule = {
          maxAgeSeconds: parseDuration('--max-age', flags.maxAge),
          recent: parseCount('--recent', flags.recent),
          ...(flags.minSize !== undefined
            ? { minBytes: parseBytes('--min-size', flags.minSize) }
            : { minRatio: flags.minRatio !== undefined ? parseRatio('--min-ratio', flags.minRatio) : DEFAULT_HEALTH_RULE.minRatio }),
        };
        const filter = parseFilter(flags);
        const storage = await openStorageFrom(flags, ctx);
        const report = await status(ctx, { storage, rule, filter, json: flags.json });
        const unhealthy = report.sources.filter((s) => !s.healthy);
        const single = report.sources.length === 1 ? report.sources[0]! : undefined;
        return {
          exitCode: report.healthy ? 0 : 1,
          message: report.healthy
            ? `${report.sources.length} sources healthy`
            : report.problem ?? `unhealthy: ${unhealthy.map((s) => `${s.engine}/${s.source} (${s.problems.join('; ')})`).join(', ')}`,
          fields: {
            sources: report.sources.length,
            unhealthySources: unhealthy.map((s) => `${s.engine}/${s.source}`),
            ...(single
              ? {
                  engine: single.engine,
                  source: single.source,
                  backupId: single.newest?.id,
                  class: single.newest?.class,
                  bytes: single.newest?.bytes,
                  ageSeconds: single.newest?.ageSeconds,
                }
              : {}),
          },
        };
      });
      setExit(code);
    });
}
