/** `lifeboat pitr restore`: flags → runPitrRestore (runner/commands/pitr-restore.ts). */
import type { Command } from 'commander';
import { EVENTS, EVENT_FIELDS } from '../contract/events';
import type { RunContext } from '../context';
import { usageError } from '../errors';
import { runAction } from './action';
import { addJsonOption } from './options';
import { addPitrCommonOptions, cipherPassFrom, configDirFrom, type PitrCommonFlags } from './pitr-options';

export function registerPitrRestore(group: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const cmd = group.command('restore').description('restore the cluster as it was at a moment into a new data directory');
  addPitrCommonOptions(cmd);
  cmd
    .option('--to-time <time>', 'the moment to go back to, with its zone (2026-12-07T14:31:00Z)')
    .option('--pgdata <dir>', 'the data directory to restore into (new or empty)')
    .option('--force', 'restore into a folder that is not empty (pgBackRest --delta)');
  addJsonOption(cmd);
  cmd.action(async (flags: PitrCommonFlags & { toTime?: string; pgdata?: string; force?: boolean }) => {
    const fields: Record<string, unknown> = { [EVENT_FIELDS.engine]: 'postgres' };
    const code = await runAction(ctx, { succeeded: EVENTS.pitrRestoreSucceeded, failed: EVENTS.pitrRestoreFailed }, fields, async () => {
      const { runPitrRestore } = await import('../commands/pitr-restore');
      const { resolveSource } = await import('../pitr/config');
      const { parseTargetTime } = await import('../pitr/target-time');
      if (!flags.toTime) throw usageError('target_time_missing', '--to-time expected a time like 2026-12-07T14:31:00Z, got nothing');
      if (!flags.pgdata) throw usageError('pgdata_missing', '--pgdata expected a new or empty folder to restore into, got nothing');
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
