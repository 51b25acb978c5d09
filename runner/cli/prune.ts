/** `lifeboat prune`: flags → runner/commands/prune.ts. */
import type { Command } from 'commander';
import { EVENTS } from '../contract/events';
import type { RunContext } from '../context';
import { prune } from '../commands/prune';
import { DEFAULT_POLICY, type RetentionPolicy } from '../retention/plan';
import { runAction } from './action';
import { addStorageOptions, openStorageFrom, parseCount, parseFilter, type StorageFlags } from './options';

interface PruneFlags extends StorageFlags {
  keepDaily: string;
  keepWeekly: string;
  keepMonthly: string;
  keepYearly: string;
  keepManualDays: string;
  engine?: string;
  source?: string;
  yes?: boolean;
  json?: boolean;
}

export function registerPrune(program: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const cmd = program.command('prune');
  addStorageOptions(cmd);
  cmd
    .description('delete backups beyond the retention rule (for storage without lifecycle rules); dry run unless --yes')
    .option('--keep-daily <n>', 'keep the daily backups of the newest N days that have one, per source', String(DEFAULT_POLICY.keepDaily))
    .option('--keep-weekly <n>', 'keep the weekly backups of the newest N ISO weeks that have one, per source', String(DEFAULT_POLICY.keepWeekly))
    .option('--keep-monthly <n>', 'keep the monthly backups of the newest N months that have one, per source', String(DEFAULT_POLICY.keepMonthly))
    .option('--keep-yearly <n>', 'keep the yearly backups of the newest N years that have one, per source', String(DEFAULT_POLICY.keepYearly))
    .option('--keep-manual-days <days>', 'keep manual backups this many days', String(DEFAULT_POLICY.keepManualDays))
    .option('--engine <engine>', 'only backups of this engine (postgres or redis)')
    .option('--source <name>', 'only backups of this source')
    .option('--yes', 'delete for real (default: print the plan only)')
    .option('--json', 'print the plan as JSON')
    .action(async (flags: PruneFlags) => {
      const code = await runAction(ctx, { succeeded: EVENTS.pruneSucceeded, failed: EVENTS.pruneFailed }, { source: flags.source }, async () => {
        const policy: RetentionPolicy = {
          keepDaily: parseCount('--keep-daily', flags.keepDaily),
          keepWeekly: parseCount('--keep-weekly', flags.keepWeekly),
          keepMonthly: parseCount('--keep-monthly', flags.keepMonthly),
          keepYearly: parseCount('--keep-yearly', flags.keepYearly),
          keepManualDays: parseCount('--keep-manual-days', flags.keepManualDays),
        };
        const filter = parseFilter(flags);
        const storage = await openStorageFrom(flags, ctx);
        const r = await prune(ctx, { storage, policy, yes: Boolean(flags.yes), filter, json: flags.json });
        return {
          message: r.dryRun
            ? `prune dry run: ${r.delete} would be deleted, ${r.keep} kept`
            : `pruned ${r.applied?.deletedBackups ?? 0} backups and ${r.applied?.deletedPartials ?? 0} partial files`,
          fields: {
            dryRun: r.dryRun,
            kept: r.keep,
            deleted: r.applied ? r.applied.deletedBackups + r.applied.deletedPartials : 0,
            wouldDelete: r.delete,
            bytes: r.applied?.freedBytes ?? 0,
          },
        };
      });
      setExit(code);
    });
}
