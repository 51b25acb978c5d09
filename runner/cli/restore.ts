/** `lifeboat restore <id|latest>`: flags → restoreBackup (runner/commands/restore.ts). */
import { Option, type Command } from 'commander';
import { EVENTS, EVENT_FIELDS } from '../contract/events';
import type { RunContext } from '../context';
import { restoreBackup } from '../commands/restore';
import { validateRestoreFlags } from '../restore/plan';
import { formatComparison, parseTableName } from '../pg/tables';
import { parseDatabaseUrl } from '../pg/connection';
import { backupEventFields, runAction } from './action';
import { addIdentityOption, addJsonOption, addSourceOption, addStorageOptions, identityFrom, collect, openStorageFrom, parseJobs, sourceFrom } from './options';

interface RestoreFlags {
  storage?: string;
  s3Endpoint?: string;
  s3Region?: string;
  source?: string;
  targetUrl?: string;
  create?: boolean;
  clean?: boolean;
  yes?: boolean;
  table?: string[];
  schemaOnly?: boolean;
  dataOnly?: boolean;
  jobs?: string;
  noOwner?: boolean;
  owner?: boolean;
  privileges?: boolean;
  roles?: boolean;
  allowLocaleChange?: boolean;
  identityFile?: string;
  json?: boolean;
}

export function registerRestore(program: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const cmd = program
    .command('restore')
    .description('restore a backup into a database, then compare row counts with the manifest')
    .argument('<backup>', 'backup id or "latest"');
  addStorageOptions(cmd);
  addIdentityOption(cmd);
  addSourceOption(cmd, 'source of "latest" when the storage holds several');
  cmd
    .addOption(new Option('--target-url <url>', 'database to restore into (postgres:// URL)').env('LIFEBOAT_TARGET_URL'))
    .option('--create', 'create the target database (it must not exist)')
    .option('--clean', 'drop the objects of the backup in the target first (needs --yes)')
    .option('--yes', 'confirm --clean')
    .option('--table <name>', 'only this table (NAME or SCHEMA.NAME); repeatable', collect)
    .option('--schema-only', 'restore definitions only')
    .option('--data-only', 'restore data only (into existing, empty tables)')
    .option('--jobs <n>', 'parallel pg_restore jobs (with --create: parallel streams, each fetching its own tables\' frames of the payload)', '1')
    .option('--no-owner', 'do not restore object ownership (target lacks the original roles)')
    .option('--no-privileges', 'do not restore grants (target lacks the roles they name)')
    .option('--roles', 'create the roles the backup\'s objects name that the target lacks (never alters an existing role)')
    .option('--allow-locale-change', 'with --create: when the target server lacks the source\'s locale, use its default locale');
  addJsonOption(cmd);
  cmd.action(async (ref: string, flags: RestoreFlags) => {
    const fields: Record<string, unknown> = { [EVENT_FIELDS.engine]: 'postgres' };
    const code = await runAction(ctx, { succeeded: EVENTS.restoreSucceeded, failed: EVENTS.restoreFailed }, fields, async () => {
      const requestedSource = sourceFrom(flags, ctx);
      if (requestedSource) fields[EVENT_FIELDS.source] = requestedSource;
      const jobs = parseJobs(flags.jobs);
      for (const t of flags.table ?? []) parseTableName(t);
      validateRestoreFlags({ jobs, schemaOnly: flags.schemaOnly, dataOnly: flags.dataOnly, clean: flags.clean, yes: flags.yes, create: flags.create });
      const target = parseDatabaseUrl(flags.targetUrl ?? ctx.env.LIFEBOAT_TARGET_URL, '--target-url');
      const storage = await openStorageFrom(flags, ctx);
      const identityText = await identityFrom(flags, ctx);
      const r = await restoreBackup(
        {
          storage,
          ref,
          source: requestedSource,
          target,
          create: flags.create,
          clean: flags.clean,
          yes: flags.yes,
          tables: flags.table,
          schemaOnly: flags.schemaOnly,
          dataOnly: flags.dataOnly,
          jobs,
          noOwner: flags.owner === false,
          noPrivileges: flags.privileges === false,
          roles: flags.roles,
          allowLocaleChange: flags.allowLocaleChange,
          identityText,
          onResolved: (b) => Object.assign(fields, backupEventFields(b.manifest)),
        },
        { ctx },
      );
      const m = r.backup.manifest;
      Object.assign(fields, { [EVENT_FIELDS.source]: m.source, [EVENT_FIELDS.backupClass]: m.class, [EVENT_FIELDS.backupId]: m.id });
      if (flags.json) ctx.stdout.write(JSON.stringify({ backupId: m.id, database: target.database, ok: r.ok, rolesCreated: r.rolesCreated, foreignKeysSkipped: r.foreignKeysSkipped, notes: r.notes, tables: r.comparison }, null, 2) + '\n');
      else {
        if (r.rolesCreated.length) ctx.stdout.write(`roles created: ${r.rolesCreated.join(', ')}\n`);
        for (const note of r.notes) ctx.stdout.write(`note: ${note}\n`);
        for (const fk of r.foreignKeysSkipped) ctx.stdout.write(`foreign key left out: ${fk} (the target's rows reference rows the backup lacks)\n`);
        if (r.comparison) ctx.stdout.write(formatComparison(r.comparison));
      }
      const rolesText = (r.rolesCreated.length ? `; created roles ${r.rolesCreated.join(', ')}` : '') + (r.foreignKeysSkipped.length ? `; foreign keys left out: ${r.foreignKeysSkipped.join(', ')}` : '');
      const bad = r.comparison?.filter((c) => !c.ok) ?? [];
      return {
        exitCode: r.ok ? 0 : 1,
        message: r.ok
          ? `backup ${m.id} restored into database "${target.database}"${r.comparison ? `; row counts of ${r.comparison.length} tables match` : ''}${rolesText}`
          : `backup ${m.id} restored into database "${target.database}" but row counts differ for ${bad.map((b) => `${b.schema}.${b.name}`).join(', ')}`,
        fields: {
          [EVENT_FIELDS.bytes]: m.payload.storedBytes,
          [EVENT_FIELDS.rawBytes]: m.payload.rawBytes,
          ...(r.foreignKeysSkipped.length ? { [EVENT_FIELDS.foreignKeysSkipped]: r.foreignKeysSkipped } : {}),
        },
      };
    });
    setExit(code);
  });
}
