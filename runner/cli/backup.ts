/** `lifeboat backup`: flags → runBackup (runner/commands/backup.ts), which also chooses between primary and replica. */
import { Option, type Command } from 'commander';
import { EVENTS, EVENT_FIELDS } from '../contract/events';
import { BACKUP_CLASSES, type BackupClass } from '../contract/layout';
import type { RunContext } from '../context';
import { usageError } from '../errors';
import { runBackup, type DumpKind } from '../commands/backup';
import { parseDatabaseUrl } from '../pg/connection';
import { parseTableName } from '../pg/tables';
import { backupEventFields, runAction } from './action';
import { addDatabaseUrlOption, addJsonOption, addObjectLockOptions, addSourceOption, addStorageOptions, collect, databaseFrom, envList, objectLockFrom, openStorageFrom, parseDuration, parseJobs, sourceFrom } from './options';

interface BackupFlags {
  storage?: string;
  s3Endpoint?: string;
  s3Region?: string;
  databaseUrl?: string;
  source?: string;
  kind: string;
  table?: string[];
  class?: string;
  encryptTo?: string[];
  preferReplica?: string;
  maxLag?: string;
  rolePasswords?: boolean;
  objectLock?: string;
  retentionDays?: string;
  jobs?: string;
  json?: boolean;
}

export function registerBackup(program: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const cmd = program.command('backup').description('dump a PostgreSQL database into storage (manifest written last)');
  addStorageOptions(cmd);
  addDatabaseUrlOption(cmd);
  addSourceOption(cmd, 'source name in the storage layout (default: the database name)');
  cmd
    .option('--kind <kind>', 'full, schema or data', 'full')
    .option('--table <name>', 'only this table (NAME or SCHEMA.NAME); repeatable', collect)
    .option('--class <class>', `force a class (${BACKUP_CLASSES.join(', ')}); default: chosen from the calendar`)
    .addOption(new Option('--encrypt-to <recipient>', 'age recipient (public key); repeatable').argParser(collect))
    .addOption(new Option('--prefer-replica <url>', 'dump from this streaming replica when its replay lag is within --max-lag').env('LIFEBOAT_PREFER_REPLICA'))
    .addOption(new Option('--max-lag <duration>', 'largest replay lag of --prefer-replica (e.g. 60s, 5m)').default('60s').env('LIFEBOAT_MAX_LAG'))
    .option('--role-passwords', "also record the referenced roles' password hashes (a secret; encrypted with the payload when it is)")
    .option('--jobs <n>', "with more than 1: the large tables' rows dumped by that many COPY sessions in the snapshot, beside pg_dump, into the same archive", '1');
  addObjectLockOptions(cmd);
  addJsonOption(cmd);
  cmd.action(async (flags: BackupFlags) => {
    const fields: Record<string, unknown> = { [EVENT_FIELDS.engine]: 'postgres' };
    const code = await runAction(ctx, { succeeded: EVENTS.backupSucceeded, failed: EVENTS.backupFailed }, fields, async () => {
      if (!['full', 'schema', 'data'].includes(flags.kind)) {
        throw usageError('kind_invalid', `--kind expected full, schema or data, got ${JSON.stringify(flags.kind)}`);
      }
      if (flags.class !== undefined && !(BACKUP_CLASSES as readonly string[]).includes(flags.class)) {
        throw usageError('class_invalid', `--class expected one of ${BACKUP_CLASSES.join(', ')}, got ${JSON.stringify(flags.class)}`);
      }
      // --table syntax before anything is contacted; the names are checked against the database later.
      for (const t of flags.table ?? []) parseTableName(t);
      const jobs = parseJobs(flags.jobs);
      const objectLock = objectLockFrom(flags, ctx);
      const conn = databaseFrom(flags, ctx);
      fields[EVENT_FIELDS.source] = sourceFrom(flags, ctx) ?? conn.database;
      const storage = await openStorageFrom(flags, ctx);
      const encryptTo = flags.encryptTo?.length ? flags.encryptTo : envList(ctx.env.LIFEBOAT_AGE_RECIPIENTS);
      const replicaUrl = flags.preferReplica ?? (ctx.env.LIFEBOAT_PREFER_REPLICA || undefined);
      const r = await runBackup(
        {
          conn,
          storage,
          source: sourceFrom(flags, ctx),
          kind: flags.kind as DumpKind,
          tables: flags.table,
          requestedClass: flags.class as BackupClass | undefined,
          encryptTo,
          preferReplica:
            replicaUrl === undefined
              ? undefined
              : { conn: parseDatabaseUrl(replicaUrl, '--prefer-replica'), maxLagSeconds: parseDuration('--max-lag', flags.maxLag ?? ctx.env.LIFEBOAT_MAX_LAG ?? '60s') },
          rolePasswords: flags.rolePasswords,
          objectLock,
          jobs,
          onPlanned: ({ cls, id }) => Object.assign(fields, { [EVENT_FIELDS.backupClass]: cls, [EVENT_FIELDS.backupId]: id }),
        },
        { ctx },
      );
      const m = r.manifest;
      ctx.stdout.write(flags.json ? JSON.stringify(m, null, 2) + '\n' : `${m.id}\n`);
      return {
        message: `backup ${m.id} of ${m.source} stored in ${storage.url}/${r.payloadKey}`,
        fields: {
          ...backupEventFields(m),
          [EVENT_FIELDS.durationSeconds]: m.durationSeconds,
        },
      };
    });
    setExit(code);
  });
}
