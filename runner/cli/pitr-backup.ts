/** `lifeboat pitr backup`: flags → runPitrBackup (runner/commands/pitr-backup.ts). */
import type { Command } from 'commander';
import { EVENTS, EVENT_FIELDS } from '../contract/events';
import type { RunContext } from '../context';
import { usageError } from '../errors';
import { parseDatabaseUrl } from '../pg/connection';
import { runAction } from './action';
import { addDatabaseUrlOption, addJsonOption } from './options';
import { addPitrCommonOptions, configDirFrom, type PitrCommonFlags } from './pitr-options';

export function registerPitrBackup(group: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const cmd = group.command('backup').description('take a pgBackRest backup (full, diff or incr) into the repository');
  addPitrCommonOptions(cmd);
  addDatabaseUrlOption(cmd);
  cmd.option('--type <type>', 'full, diff (changes since the last full) or incr (since the last backup)', 'incr');
  addJsonOption(cmd);
  cmd.action(async (flags: PitrCommonFlags & { type: string; databaseUrl?: string }) => {
    const fields: Record<string, unknown> = { [EVENT_FIELDS.engine]: 'postgres' };
    const code = await runAction(ctx, { succeeded: EVENTS.pitrBackupSucceeded, failed: EVENTS.pitrBackupFailed }, fields, async () => {
      const { runPitrBackup, PITR_BACKUP_TYPES } = await import('../commands/pitr-backup');
      const { resolveSource } = await import('../pitr/config');
      if (!(PITR_BACKUP_TYPES as readonly string[]).includes(flags.type)) {
        throw usageError('backup_type_invalid', `--type expected ${PITR_BACKUP_TYPES.join(', ')}, got ${JSON.stringify(flags.type)}`);
      }
      const configDir = configDirFrom(flags, ctx);
      const source = await resolveSource(configDir, flags.source);
      fields[EVENT_FIELDS.source] = source;
      const url = flags.databaseUrl ?? ctx.env.DATABASE_URL;
      const pgPassword = url ? parseDatabaseUrl(url).password : undefined;
      const r = await runPitrBackup({ configDir, source, type: flags.type as 'full', pgPassword }, { ctx });
      ctx.stdout.write(flags.json ? JSON.stringify(r.backup, null, 2) + '\n' : `${r.backup.label}\n`);
      return {
        message: `pitr backup ${r.backup.label} (${r.backup.type}) of ${source} stored in ${r.config.repoPath}`,
        fields: { [EVENT_FIELDS.backupId]: r.backup.label, [EVENT_FIELDS.bytes]: r.backup.repoBytes, [EVENT_FIELDS.rawBytes]: r.backup.bytes, type: r.backup.type },
      };
    });
    setExit(code);
  });
}
