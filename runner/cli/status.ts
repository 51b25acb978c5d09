/** `lifeboat status`: flags → runner/commands/status.ts; exit 1 when any source is unhealthy. */
import { Option, type Command } from 'commander';
import { ENV } from '../contract/env';
import { EVENTS } from '../contract/events';
import type { RunContext } from '../context';
import { DEFAULT_HEALTH_RULE, status, type HealthRule } from '../commands/status';
import { usageError } from '../errors';
import { parseDatabaseUrl } from '../pg/connection';
import { runAction } from './action';
import { addStorageOptions, openStorageFrom, parseBytes, parseCount, parseDuration, parseFilter, parseRatio, type StorageFlags } from './options';

interface StatusFlags extends StorageFlags {
  maxAge: string;
  minSize?: string;
  minRatio?: string;
  recent: string;
  engine?: string;
  source?: string;
  json?: boolean;
  archivingUrl?: string;
  maxArchiveLag?: string;
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
    .addOption(new Option('--archiving-url <url>', 'also judge WAL archiving (point-in-time recovery) of this PostgreSQL server').env('LIFEBOAT_ARCHIVING_URL'))
    .option('--max-archive-lag <duration>', 'archiving is stalled when nothing was archived for this long (default 3 archive_timeouts, at least 5m)')
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
        const archivingUrl = flags.archivingUrl ?? ctx.env.LIFEBOAT_ARCHIVING_URL;
        const archiving = archivingUrl ? parseDatabaseUrl(archivingUrl, '--archiving-url') : undefined;
        const maxArchiveLagSeconds = flags.maxArchiveLag !== undefined ? parseDuration('--max-archive-lag', flags.maxArchiveLag) : undefined;
        const storage = archiving && !(flags.storage ?? ctx.env.LIFEBOAT_STORAGE) ? undefined : await openStorageFrom(flags, ctx);
        const report = await status(ctx, { storage, rule, filter, json: flags.json, archiving, maxArchiveLagSeconds });
        const unhealthy = report.sources.filter((s) => !s.healthy);
        const single = report.sources.length === 1 ? report.sources[0]! : undefined;
        return {
          exitCode: report.healthy ? 0 : 1,
          message: report.healthy
            ? [storage ? `${report.sources.length} sources healthy` : '', report.archiving ? `WAL archiving of ${report.archiving.server} healthy` : ''].filter(Boolean).join('; ')
            : [
                report.problem ?? (unhealthy.length ? `unhealthy: ${unhealthy.map((s) => `${s.engine}/${s.source} (${s.problems.join('; ')})`).join(', ')}` : ''),
                report.archiving && !report.archiving.healthy ? `WAL archiving of ${report.archiving.server}: ${report.archiving.problem}` : '',
              ].filter(Boolean).join('; '),
          fields: {
            sources: report.sources.length,
            unhealthySources: unhealthy.map((s) => `${s.engine}/${s.source}`),
            ...(report.archiving ? { archivingHealthy: report.archiving.healthy, archiveLagSeconds: report.archiving.lagSeconds } : {}),
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
