/** `lifeboat verify <id|latest>`: flags → verifyBackup (runner/commands/verify.ts). */
import type { Command } from 'commander';
import { EVENTS, EVENT_FIELDS } from '../contract/events';
import type { RunContext } from '../context';
import { verifyBackup } from '../commands/verify';
import { parseDatabaseUrl } from '../pg/connection';
import { formatComparison } from '../pg/tables';
import { backupEventFields, runAction } from './action';
import { addIdentityOption, addJsonOption, addSourceOption, addStorageOptions, identityFrom, openStorageFrom, sourceFrom, parseJobs } from './options';

interface VerifyFlags {
  storage?: string;
  s3Endpoint?: string;
  s3Region?: string;
  source?: string;
  restoreInto?: string;
  jobs?: string;
  owner?: boolean;
  privileges?: boolean;
  roles?: boolean;
  identityFile?: string;
  json?: boolean;
}

export function registerVerify(program: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const cmd = program
    .command('verify')
    .description('check a backup: checksum, a full read with pg_restore, optionally a scratch restore with row counts')
    .argument('<backup>', 'backup id or "latest"');
  addStorageOptions(cmd);
  addIdentityOption(cmd);
  addSourceOption(cmd, 'source of "latest" when the storage holds several');
  cmd
    .option('--restore-into <url>', 'also restore into this database (missing: created and dropped; else it must be empty)')
    .option('--jobs <n>', 'parallel pg_restore jobs for --restore-into', '1')
    .option('--no-owner', 'do not restore object ownership')
    .option('--no-privileges', 'do not restore grants')
    .option('--roles', "for --restore-into: create the roles the backup's objects name that the server lacks (dropped afterwards)")
    ;
  addJsonOption(cmd);
  cmd.action(async (ref: string, flags: VerifyFlags) => {
    const fields: Record<string, unknown> = { [EVENT_FIELDS.engine]: 'postgres' };
    const code = await runAction(ctx, { succeeded: EVENTS.verifySucceeded, failed: EVENTS.verifyFailed }, fields, async () => {
      const requestedSource = sourceFrom(flags, ctx);
      if (requestedSource) fields[EVENT_FIELDS.source] = requestedSource;
      const jobs = parseJobs(flags.jobs);
      const restoreInto = flags.restoreInto !== undefined ? parseDatabaseUrl(flags.restoreInto, '--restore-into') : undefined;
      const storage = await openStorageFrom(flags, ctx);
      const identityText = await identityFrom(flags, ctx);
      const r = await verifyBackup(
        { storage, ref, source: requestedSource, restoreInto, jobs, noOwner: flags.owner === false, noPrivileges: flags.privileges === false, roles: flags.roles, identityText,
          onResolved: (b) => Object.assign(fields, backupEventFields(b.manifest)), },
        { ctx },
      );
      const m = r.backup.manifest;
      Object.assign(fields, { [EVENT_FIELDS.source]: m.source, [EVENT_FIELDS.backupClass]: m.class, [EVENT_FIELDS.backupId]: m.id });
      if (flags.json) {
        ctx.stdout.write(JSON.stringify({ backupId: m.id, ok: r.ok, sha256: m.payload.sha256, tables: r.comparison, scratch: r.scratch, rolesCreated: r.rolesCreated }, null, 2) + '\n');
      } else {
        ctx.stdout.write(`${m.id}: sha256 ok, archive readable${r.scratch ? `, scratch restore into "${restoreInto!.database}" ${r.ok ? 'ok' : 'FAILED'}` : ''}\n`);
        if (r.comparison) ctx.stdout.write(formatComparison(r.comparison));
      }
      const bad = r.comparison?.filter((c) => !c.ok) ?? [];
      return {
        exitCode: r.ok ? 0 : 1,
        message: r.ok
          ? `backup ${m.id} verified${r.scratch ? ' with a scratch restore' : ''}`
          : `backup ${m.id}: row counts differ after the scratch restore for ${bad.map((b) => `${b.schema}.${b.name}`).join(', ')}`,
        fields: { [EVENT_FIELDS.bytes]: m.payload.storedBytes, [EVENT_FIELDS.rawBytes]: m.payload.rawBytes },
      };
    });
    setExit(code);
  });
}
