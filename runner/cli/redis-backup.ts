/** `lifeboat redis backup`: flags → runRedisBackup (runner/commands/redis-backup.ts). */
import { Option, type Command } from 'commander';
import { EVENTS, EVENT_FIELDS } from '../contract/events';
import { BACKUP_CLASSES, type BackupClass } from '../contract/layout';
import type { RunContext } from '../context';
import { usageError } from '../errors';
import { REDIS_METHODS, type RedisMethod } from '../redis/payload';
import { backupEventFields, runAction } from './action';
import { addJsonOption, addObjectLockOptions, addSourceOption, addStorageOptions, collect, envList, objectLockFrom, openStorageFrom, sourceFrom } from './options';
import { addRedisUrlOption, redisUrlFrom, totalKeys, type RedisCommonFlags } from './redis-options';

export function registerRedisBackup(group: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const backup = group.command('backup').description('snapshot a Redis into storage (RDB over replication, or --method dump)');
  addStorageOptions(backup);
  addRedisUrlOption(backup);
  addSourceOption(backup, 'source name in the storage layout (default: the host)');
  backup
    .option('--method <method>', 'rdb (a snapshot over the replication protocol) or dump (SCAN + DUMP, for managed Redis)', 'rdb')
    .option('--class <class>', `force a class (${BACKUP_CLASSES.join(', ')}); default: chosen from the calendar`)
    .addOption(new Option('--encrypt-to <recipient>', 'age recipient (public key); repeatable').argParser(collect));
  addObjectLockOptions(backup);
  addJsonOption(backup);
  backup.action(async (flags: RedisCommonFlags & { redisUrl?: string; method: string; class?: string; encryptTo?: string[]; objectLock?: string; retentionDays?: string }) => {
    const fields: Record<string, unknown> = { [EVENT_FIELDS.engine]: 'redis', [EVENT_FIELDS.source]: sourceFrom(flags, ctx) };
    const code = await runAction(ctx, { succeeded: EVENTS.redisBackupSucceeded, failed: EVENTS.redisBackupFailed }, fields, async () => {
      const { parseRedisUrl } = await import('../redis/connection');
      const { redisSourceName, runRedisBackup } = await import('../commands/redis-backup');
      if (!(REDIS_METHODS as readonly string[]).includes(flags.method)) {
        throw usageError('method_invalid', `--method expected ${REDIS_METHODS.join(' or ')}, got ${JSON.stringify(flags.method)}`);
      }
      if (flags.class !== undefined && !(BACKUP_CLASSES as readonly string[]).includes(flags.class)) {
        throw usageError('class_invalid', `--class expected one of ${BACKUP_CLASSES.join(', ')}, got ${JSON.stringify(flags.class)}`);
      }
      const objectLock = objectLockFrom(flags, ctx);
      const conn = parseRedisUrl(redisUrlFrom(flags, ctx));
      fields[EVENT_FIELDS.source] = redisSourceName(conn, sourceFrom(flags, ctx));
      const storage = await openStorageFrom(flags, ctx);
      const encryptTo = flags.encryptTo?.length ? flags.encryptTo : envList(ctx.env.LIFEBOAT_AGE_RECIPIENTS);
      const r = await runRedisBackup(
        {
          conn,
          storage,
          source: sourceFrom(flags, ctx),
          method: flags.method as RedisMethod,
          requestedClass: flags.class as BackupClass | undefined,
          encryptTo,
          objectLock,
          onPlanned: (p) => Object.assign(fields, { [EVENT_FIELDS.backupClass]: p.cls, [EVENT_FIELDS.backupId]: p.id }),
        },
        { ctx },
      );
      const m = r.manifest;
      ctx.stdout.write(flags.json ? JSON.stringify(m, null, 2) + '\n' : `${m.id}\n`);
      return {
        message: `redis backup ${m.id} of ${m.source} (${totalKeys(m.redisKeys)} keys) stored in ${storage.url}/${r.payloadKey}`,
        fields: {
          ...backupEventFields(m),
          [EVENT_FIELDS.durationSeconds]: m.durationSeconds,
          method: flags.method,
          keys: totalKeys(m.redisKeys),
        },
      };
    });
    setExit(code);
  });
}
