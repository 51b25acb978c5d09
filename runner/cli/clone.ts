/** `lifeboat clone --from URL --to URL`: flags → cloneDatabase (runner/commands/clone.ts). */
import { Option, type Command } from 'commander';
import { EVENTS, EVENT_FIELDS } from '../contract/events';
import type { RunContext } from '../context';
import { cloneDatabase } from '../commands/clone';
import { parseDatabaseUrl } from '../pg/connection';
import { formatComparison, qualified } from '../pg/tables';
import { runAction } from './action';
import { addJsonOption, parseJobs } from './options';

interface CloneFlags {
  from?: string;
  to?: string;
  create?: boolean;
  clean?: boolean;
  yes?: boolean;
  jobs?: string;
  owner?: boolean;
  privileges?: boolean;
  json?: boolean;
}

export function registerClone(program: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const cmd = program
    .command('clone')
    .description('copy a database into another one directly (pg_dump | pg_restore), then compare row counts')
    .addOption(new Option('--from <url>', 'database to copy (postgres:// URL)').env('LIFEBOAT_FROM'))
    .addOption(new Option('--to <url>', 'database to copy into (postgres:// URL)').env('LIFEBOAT_TO'))
    .option('--create', 'create the target database (it must not exist)')
    .option('--clean', 'drop the copied objects in the target first (needs --yes)')
    .option('--yes', 'confirm --clean')
    .option('--jobs <n>', '1: stream, nothing on disk; N > 1: parallel dump and restore through a temp folder', '1')
    .option('--no-owner', 'do not restore object ownership (target lacks the original roles)')
    .option('--no-privileges', 'do not restore grants (target lacks the roles they name)');
  addJsonOption(cmd);
  cmd.action(async (flags: CloneFlags) => {
    const fields: Record<string, unknown> = { [EVENT_FIELDS.engine]: 'postgres' };
    const code = await runAction(ctx, { succeeded: EVENTS.cloneSucceeded, failed: EVENTS.cloneFailed }, fields, async () => {
      const jobs = parseJobs(flags.jobs);
      const from = parseDatabaseUrl(flags.from ?? ctx.env.LIFEBOAT_FROM, '--from');
      const to = parseDatabaseUrl(flags.to ?? ctx.env.LIFEBOAT_TO, '--to');
      fields[EVENT_FIELDS.source] = from.database;
      const r = await cloneDatabase({ from, to, create: flags.create, clean: flags.clean, yes: flags.yes, jobs, noOwner: flags.owner === false, noPrivileges: flags.privileges === false }, { ctx });
      if (flags.json) {
        ctx.stdout.write(JSON.stringify({ from: from.database, to: to.database, ok: r.ok, mode: r.mode, snapshotAt: r.snapshotAt, tables: r.comparison }, null, 2) + '\n');
      } else {
        ctx.stdout.write(formatComparison(r.comparison));
      }
      const bad = r.comparison.filter((c) => !c.ok);
      return {
        exitCode: r.ok ? 0 : 1,
        message: r.ok
          ? `database "${from.database}" cloned into "${to.database}"; row counts of ${r.comparison.length} tables match`
          : `database "${from.database}" cloned into "${to.database}" but row counts differ for ${bad.map(qualified).join(', ')}`,
        // Streaming: the bytes pg_dump produced; directory mode: the (compressed) size of the temp dump.
        fields: { [r.mode === 'stream' ? EVENT_FIELDS.rawBytes : EVENT_FIELDS.bytes]: r.dumpBytes },
      };
    });
    setExit(code);
  });
}
