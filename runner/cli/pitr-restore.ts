/** `lifeboat pitr restore`: flags → runPitrRestore (runner/commands/pitr-restore.ts). */
import type { Command } from 'commander';
import { EVENTS, EVENT_FIELDS } from '../contract/events';
import type { RunContext } from '../context';
import { usageError } from '../errors';
import { runAction } from './action';
import { addJsonOption } from './options';
import { addManagedOptions, checkInstanceName, managedTargetFrom, openManagedProvider, timeoutMsFrom, type ManagedFlags } from './pitr-managed';
import { addPitrCommonOptions, cipherPassFrom, configDirFrom, type PitrCommonFlags } from './pitr-options';

type RestoreFlags = PitrCommonFlags & ManagedFlags & { toTime?: string; pgdata?: string; force?: boolean; into?: string };

export function registerPitrRestore(group: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const cmd = group.command('restore').description('restore a cluster (or an RDS or Cloud SQL instance) as it was at a moment into a new data directory (or instance)');
  addPitrCommonOptions(cmd);
  cmd
    .option('--to-time <time>', 'the moment to go back to, with its zone (2026-12-07T14:31:00Z)')
    .option('--pgdata <dir>', 'the data directory to restore into (new or empty)')
    .option('--force', 'restore into a folder that is not empty (pgBackRest --delta)');
  addManagedOptions(cmd, 'restore');
  cmd.option('--into <name>', 'with --rds or --cloudsql: the new instance to create (must not exist)');
  addJsonOption(cmd);
  cmd.action(async (flags: RestoreFlags) => {
    const fields: Record<string, unknown> = { [EVENT_FIELDS.engine]: 'postgres' };
    const code = await runAction(ctx, { succeeded: EVENTS.pitrRestoreSucceeded, failed: EVENTS.pitrRestoreFailed }, fields, async () => {
      const { runPitrRestore, runManagedPitrRestore } = await import('../commands/pitr-restore');
      const { resolveSource } = await import('../pitr/config');
      const { parseTargetTime } = await import('../pitr/target-time');
      const managed = managedTargetFrom(flags, { '--pgdata': flags.pgdata !== undefined });
      if (!flags.toTime) throw usageError('target_time_missing', '--to-time expected a time like 2026-12-07T14:31:00Z, got nothing');
      if (managed) {
        if (flags.force) throw usageError('force_unsupported', '--force is for --pgdata only: a managed restore always makes a new instance');
        if (!flags.into) throw usageError('into_missing', `--into expected the name of the new instance to restore ${managed.value} into, got nothing`);
        checkInstanceName(managed.kind, '--into', flags.into);
        const target = parseTargetTime('--to-time', flags.toTime, ctx.now());
        const timeoutMs = timeoutMsFrom(flags);
        fields[EVENT_FIELDS.source] = managed.value;
        fields.provider = managed.kind;
        const provider = await openManagedProvider(managed, ctx, false);
        const { DEFAULT_POLL_MS } = await import('../pitr/managed');
        const r = await runManagedPitrRestore({ provider, target, into: flags.into, timeoutMs, pollMs: DEFAULT_POLL_MS }, { ctx });
        const endpoint = r.instance.endpoint ? `${r.instance.endpoint.host}:${r.instance.endpoint.port}` : null;
        if (flags.json) ctx.stdout.write(JSON.stringify({ source: provider.sourceName, provider: provider.kind, instance: r.instance.name, endpoint, target: r.target.toISOString(), seconds: r.seconds, carried: r.source.carried }, null, 2) + '\n');
        else {
          ctx.stdout.write(
            [
              `restored ${r.source.label} as it was at ${r.target.toISOString()} into ${r.instance.name} (${r.seconds}s)`,
              `endpoint ${endpoint ?? '(none reported)'}`,
              `the source is untouched; ${r.instance.name} is labelled made-by=lifeboat. Point clients at it, or copy the rows you need back.`,
            ].join('\n') + '\n',
          );
        }
        return { message: `pitr restore of ${r.source.label} to ${r.target.toISOString()} into ${r.instance.name}`, fields: { target: r.target.toISOString(), instance: r.instance.name, endpoint } };
      }
      if (flags.into !== undefined || flags.timeout !== undefined) throw usageError('into_without_managed', `${flags.into !== undefined ? '--into' : '--timeout'} needs --rds or --cloudsql`);
      if (!flags.pgdata) throw usageError('pgdata_missing', 'pitr restore expected exactly one of --pgdata (a new or empty folder), --rds or --cloudsql, got none');
      const target = parseTargetTime('--to-time', flags.toTime, ctx.now());
      const configDir = configDirFrom(flags, ctx);
      const source = await resolveSource(configDir, flags.source);
      fields[EVENT_FIELDS.source] = source;
      const r = await runPitrRestore({ configDir, source, target, pgdata: flags.pgdata, force: !!flags.force, cipherPass: cipherPassFrom(ctx) }, { ctx });
      if (flags.json) ctx.stdout.write(JSON.stringify({ source, pgdata: r.pgdata, target: r.target.toISOString(), backup: r.backup.label, recovery: r.recovery, startCommand: r.startCommand }, null, 2) + '\n');
      else {
        ctx.stdout.write(
          [
            `restored ${source} into ${r.pgdata} from backup ${r.backup.label} (ended ${r.backup.stoppedAt.toISOString()})`,
            `recovered to ${r.target.toISOString()}: the last transaction replayed committed at ${r.recovery.lastTransactionAt ?? '(none after the backup)'}; the first one left out at ${r.recovery.stoppedAt}`,
            `start it as the folder's owner: ${r.startCommand}`,
            'archiving is off in it (archive_mode = off): if it is to become the primary, run "lifeboat pitr init" for it.',
          ].join('\n') + '\n',
        );
      }
      return { message: `pitr restore of ${source} to ${r.target.toISOString()} into ${r.pgdata} from ${r.backup.label}`, fields: { [EVENT_FIELDS.backupId]: r.backup.label, target: r.target.toISOString() } };
    });
    setExit(code);
  });
}
