/** `lifeboat drill`: flags → runDrill (runner/commands/drill.ts); exit 1 when any check or target fails. */
import { Option, type Command } from 'commander';
import { EVENTS, EVENT_FIELDS } from '../contract/events';
import type { RunContext } from '../context';
import { runDrill } from '../commands/drill';
import { formatDrillReport, formatSeconds } from '../drill/report';
import { parseDatabaseUrl } from '../pg/connection';
import { backupEventFields, runAction } from './action';
import { addIdentityOption, addJsonOption, addSourceOption, addStorageOptions, identityFrom, openStorageFrom, sourceFrom, type StorageFlags, parseDuration, parseJobs } from './options';

interface DrillFlags extends StorageFlags {
  scratchUrl?: string;
  backup: string;
  source?: string;
  rpo?: string;
  rto?: string;
  amcheck?: boolean;
  jobs?: string;
  identityFile?: string;
  json?: boolean;
}

export function registerDrill(program: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const cmd = program
    .command('drill')
    .description('restore a backup into a fresh scratch database, check it, drop it; measure RPO and RTO; store a report');
  addStorageOptions(cmd);
  addIdentityOption(cmd);
  addSourceOption(cmd, 'source of "latest" when the storage holds several');
  cmd
    .addOption(
      new Option('--scratch-url <url>', 'server for the scratch database; its database part is the name prefix (postgres: lifeboat_drill)').env(
        'LIFEBOAT_SCRATCH_URL',
      ),
    )
    .addOption(new Option('--backup <id>', 'backup id or "latest"').default('latest').env('LIFEBOAT_BACKUP'))
    .addOption(new Option('--rpo <duration>', 'fail when the newest full backup is older than this (e.g. 24h)').env('LIFEBOAT_RPO'))
    .addOption(new Option('--rto <duration>', 'fail when the restore takes longer than this (e.g. 30m)').env('LIFEBOAT_RTO'))
    .option('--amcheck', 'also check every B-tree index with amcheck')
    .option('--jobs <n>', 'parallel pg_restore jobs', '1')
    ;
  addJsonOption(cmd);
  cmd.action(async (flags: DrillFlags) => {
    const fields: Record<string, unknown> = { [EVENT_FIELDS.engine]: 'postgres', [EVENT_FIELDS.passed]: false };
    const code = await runAction(ctx, { succeeded: EVENTS.drillSucceeded, failed: EVENTS.drillFailed }, fields, async () => {
      const requestedSource = sourceFrom(flags, ctx);
      if (requestedSource) fields[EVENT_FIELDS.source] = requestedSource;
      const rpo = flags.rpo ?? (ctx.env.LIFEBOAT_RPO || undefined);
      const rto = flags.rto ?? (ctx.env.LIFEBOAT_RTO || undefined);
      const rpoTargetSeconds = rpo === undefined ? null : parseDuration('--rpo', rpo);
      const rtoTargetSeconds = rto === undefined ? null : parseDuration('--rto', rto);
      Object.assign(fields, { [EVENT_FIELDS.rpoTargetSeconds]: rpoTargetSeconds, [EVENT_FIELDS.rtoTargetSeconds]: rtoTargetSeconds });
      const jobs = parseJobs(flags.jobs);
      const scratch = parseDatabaseUrl(flags.scratchUrl ?? ctx.env.LIFEBOAT_SCRATCH_URL, '--scratch-url');
      const storage = await openStorageFrom(flags, ctx);
      const identityText = await identityFrom(flags, ctx);
      const { report: r, storeError } = await runDrill(
        { storage, ref: flags.backup, source: requestedSource, scratch, rpoTargetSeconds, rtoTargetSeconds, amcheck: flags.amcheck, jobs, identityText,
          onResolved: (b) => Object.assign(fields, backupEventFields(b.manifest)), },
        { ctx },
      );
      ctx.stdout.write(flags.json || !ctx.stdout.isTTY ? JSON.stringify(r, null, 2) + '\n' : formatDrillReport(r));
      const passed = r.passed && storeError === null;
      const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
      if (storeError) failed.push(storeError);
      return {
        exitCode: passed ? 0 : 1,
        message: passed
          ? `drill of ${r.source} passed: backup ${r.backup.id} restored in ${formatSeconds(r.rto.seconds)}, RPO ${formatSeconds(r.rpo.seconds)}`
          : `drill of ${r.source} failed: ${failed.join(' | ')}`,
        fields: {
          [EVENT_FIELDS.source]: r.source,
          [EVENT_FIELDS.backupClass]: r.backup.class,
          [EVENT_FIELDS.backupId]: r.backup.id,
          [EVENT_FIELDS.bytes]: r.backup.storedBytes,
          [EVENT_FIELDS.rpoSeconds]: r.rpo.seconds,
          [EVENT_FIELDS.rtoSeconds]: r.rto.seconds,
          [EVENT_FIELDS.passed]: passed,
        },
      };
    });
    setExit(code);
  });
}
