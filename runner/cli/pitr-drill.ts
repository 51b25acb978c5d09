/** `lifeboat pitr drill`: flags → runPitrDrill (runner/commands/pitr-drill.ts); exit 1 when any check fails. */
import type { Command } from 'commander';
import { EVENTS, EVENT_FIELDS } from '../contract/events';
import type { RunContext } from '../context';
import { usageError } from '../errors';
import { runAction } from './action';
import { addDatabaseUrlOption, addJsonOption, addStorageOptions, collect, databaseFrom, openStorageFrom, parseDuration, sourceFrom, type StorageFlags } from './options';
import { addManagedOptions, managedTargetFrom, openManagedProvider, timeoutMsFrom, type ManagedFlags } from './pitr-managed';
import { addPitrCommonOptions, cipherPassFrom, configDirFrom, type PitrCommonFlags } from './pitr-options';

/** "table" or "schema.table", plain identifiers (they are quoted in SQL). */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;

interface DrillFlags extends PitrCommonFlags, ManagedFlags, StorageFlags {
  checkTable?: string[];
  toTime?: string;
  ago?: string;
  databaseUrl?: string;
  rpo?: string;
  rto?: string;
}

export function registerPitrDrill(group: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const cmd = group.command('drill').description('restore to a moment into a throwaway server, check it reached that moment, measure RPO and RTO');
  addPitrCommonOptions(cmd);
  addDatabaseUrlOption(cmd);
  cmd
    .option('--to-time <time>', 'the moment to restore to, with its zone (2026-12-07T14:31:00Z)')
    .option('--ago <duration>', 'or how long ago (1h, 90m)')
    .option('--rpo <duration>', 'fail when the archive lags more than this (e.g. 5m)')
    .option('--rto <duration>', 'fail when restore, recovery and the first query take longer than this (e.g. 30m)');
  addManagedOptions(cmd, 'drill');
  cmd.option('--check-table <table>', 'with --rds or --cloudsql: count the rows of this table in the clone (repeatable; schema.table)', collect);
  addStorageOptions(cmd);
  addJsonOption(cmd);
  cmd.action(async (flags: DrillFlags) => {
    const fields: Record<string, unknown> = { [EVENT_FIELDS.engine]: 'postgres' };
    const code = await runAction(ctx, { succeeded: EVENTS.pitrDrillSucceeded, failed: EVENTS.pitrDrillFailed }, fields, async () => {
      const { runPitrDrill } = await import('../commands/pitr-drill');
      const { resolveSource, readPitrConfig } = await import('../pitr/config');
      const { parseTargetTime } = await import('../pitr/target-time');
      const { formatPitrDrillReport } = await import('../pitr/report');
      const { openStorage } = await import('../storage/open');
      if ((flags.toTime === undefined) === (flags.ago === undefined)) {
        throw usageError('target_time_missing', `pitr drill expected exactly one of --to-time or --ago, got ${flags.toTime === undefined ? 'neither' : 'both'}`);
      }
      const now = ctx.now();
      const target = flags.toTime !== undefined ? parseTargetTime('--to-time', flags.toTime, now) : new Date(now.getTime() - parseDuration('--ago', flags.ago!) * 1000);
      const rpoTargetSeconds = flags.rpo ? parseDuration('--rpo', flags.rpo) : null;
      const rtoTargetSeconds = flags.rto ? parseDuration('--rto', flags.rto) : null;
      const managed = managedTargetFrom(flags, {});
      if (managed) {
        const { runManagedPitrDrill } = await import('../commands/pitr-drill');
        const { DEFAULT_POLL_MS } = await import('../pitr/managed');
        const { SOURCE_NAME_PATTERN } = await import('../contract/layout');
        const tables = flags.checkTable ?? [];
        for (const t of tables) if (!TABLE_NAME.test(t)) throw usageError('check_table_invalid', `--check-table expected table or schema.table, got ${JSON.stringify(t)}`);
        // The report's source: --source, else the RDS identifier or the Cloud SQL instance's name.
        const source = sourceFrom(flags, ctx) ?? managed.value.split(':').pop()!;
        if (!SOURCE_NAME_PATTERN.test(source)) throw usageError('source_invalid', `--source expected letters, digits, ".", "_" or "-" (at most 63), got ${JSON.stringify(source)}`);
        fields[EVENT_FIELDS.source] = source;
        fields.provider = managed.kind;
        const conn = databaseFrom(flags, ctx);
        const timeoutMs = timeoutMsFrom(flags);
        const storageUrl = flags.storage ?? ctx.env.LIFEBOAT_STORAGE;
        const storage = storageUrl ? await openStorageFrom(flags, ctx) : undefined;
        const provider = await openManagedProvider(managed, ctx, true);
        const r = await runManagedPitrDrill({ provider, source, target, conn, tables, storage, rpoTargetSeconds, rtoTargetSeconds, timeoutMs, pollMs: DEFAULT_POLL_MS }, { ctx });
        ctx.stdout.write(flags.json || !ctx.stdout.isTTY ? JSON.stringify(r, null, 2) + '\n' : formatPitrDrillReport(r));
        const failed = r.checks.filter((c) => !c.ok).map((c) => c.name);
        return {
          exitCode: r.passed ? 0 : 1,
          message: r.passed ? `pitr drill of ${provider.sourceName} to ${r.target} passed` : `pitr drill of ${provider.sourceName} to ${r.target} failed: ${failed.join(', ')}`,
          fields: {
            [EVENT_FIELDS.rpoSeconds]: r.rpo.seconds,
            [EVENT_FIELDS.rtoSeconds]: r.rto.seconds,
            [EVENT_FIELDS.rpoTargetSeconds]: r.rpo.targetSeconds,
            [EVENT_FIELDS.rtoTargetSeconds]: r.rto.targetSeconds,
            [EVENT_FIELDS.passed]: r.passed,
            clone: r.managed?.clone,
            staleRemoved: r.staleRemoved.length,
          },
        };
      }
      if (flags.checkTable || flags.timeout !== undefined) throw usageError('managed_flag_without_managed', `${flags.checkTable ? '--check-table' : '--timeout'} needs --rds or --cloudsql`);
      const conn = databaseFrom(flags, ctx);
      const configDir = configDirFrom(flags, ctx);
      const source = await resolveSource(configDir, flags.source);
      fields[EVENT_FIELDS.source] = source;
      const { cfg } = await readPitrConfig(configDir, source);
      const r = await runPitrDrill(
        { configDir, source, target, conn, storage: await openStorage(cfg.storageUrl, { s3Endpoint: cfg.s3?.endpointUrl ?? undefined, s3Region: cfg.s3?.region, env: ctx.env }), rpoTargetSeconds, rtoTargetSeconds, cipherPass: cipherPassFrom(ctx) },
        { ctx },
      );
      ctx.stdout.write(flags.json || !ctx.stdout.isTTY ? JSON.stringify(r, null, 2) + '\n' : formatPitrDrillReport(r));
      const failed = r.checks.filter((c) => !c.ok).map((c) => c.name);
      return {
        exitCode: r.passed ? 0 : 1,
        message: r.passed ? `pitr drill of ${source} to ${r.target} passed` : `pitr drill of ${source} to ${r.target} failed: ${failed.join(', ')}`,
        fields: {
          [EVENT_FIELDS.rpoSeconds]: r.rpo.seconds,
          [EVENT_FIELDS.rtoSeconds]: r.rto.seconds,
          [EVENT_FIELDS.rpoTargetSeconds]: r.rpo.targetSeconds,
          [EVENT_FIELDS.rtoTargetSeconds]: r.rto.targetSeconds,
          [EVENT_FIELDS.passed]: r.passed,
          [EVENT_FIELDS.backupId]: r.backup?.label,
        },
      };
    });
    setExit(code);
  });
}
