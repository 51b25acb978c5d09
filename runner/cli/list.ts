/** `lifeboat list`: complete backups, newest first (runner/commands/list.ts). */
import type { Command } from 'commander';
import { EVENTS, EVENT_FIELDS } from '../contract/events';
import type { RunContext } from '../context';
import { formatList, listRows } from '../commands/list';
import { runAction } from './action';
import { addJsonOption, addSourceOption, addStorageOptions, openStorageFrom, sourceFrom } from './options';

export function registerList(program: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const cmd = program.command('list').description('complete backups, newest first');
  addStorageOptions(cmd);
  addSourceOption(cmd, 'only backups of this source');
  addJsonOption(cmd);
  cmd.action(async (flags: { storage?: string; s3Endpoint?: string; s3Region?: string; source?: string; json?: boolean }) => {
    const fields: Record<string, unknown> = {};
    const code = await runAction(ctx, { succeeded: EVENTS.listSucceeded, failed: EVENTS.listFailed }, fields, async () => {
      const source = sourceFrom(flags, ctx);
      if (source) fields[EVENT_FIELDS.source] = source;
      const storage = await openStorageFrom(flags, ctx);
      const { rows, backups, unreadable } = await listRows(storage, { source }, ctx.now());
      for (const u of unreadable) ctx.logger.warn({ backupId: u.id, source: u.source }, `backup ${u.id} of ${u.source}: manifest unreadable (${u.reason}); not listed`);
      if (flags.json) {
        ctx.stdout.write(JSON.stringify(backups.map((b, i) => ({ ...rows[i], manifest: b.manifest })), null, 2) + '\n');
      } else if (rows.length === 0) {
        ctx.stderr.write(`no complete backups in ${storage.url}${source ? ` for source ${source}` : ''}\n`);
      } else {
        ctx.stdout.write(formatList(rows));
      }
      const also = unreadable.length ? `; ${unreadable.length} with an unreadable manifest` : '';
      return { message: `${rows.length} complete backup(s) in ${storage.url}${also}`, fields: { count: rows.length } };
    });
    setExit(code);
  });
}
