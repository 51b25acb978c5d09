/** `lifeboat redis backup|restore|verify`: flags → runner/redis/*. */
import { Option, type Command } from 'commander';
import { EVENTS, EVENT_FIELDS } from '../contract/events';
import { BACKUP_CLASSES, type BackupClass } from '../contract/layout';
import type { RunContext } from '../context';
import { usageError } from '../errors';
import { REDIS_METHODS, type RedisMethod } from '../redis/payload';
import { backupEventFields, runAction } from './action';
import {
  addIdentityOption,
  addJsonOption,
  addSourceOption,
  addStorageOptions,
  collect,
  envList,
  identityFrom,
  openStorageFrom,
  sourceFrom,
  type StorageFlags,
} from './options';
import { ENV } from '../contract/env';
import type { CompleteBackup } from '../catalog/catalog';

/**
 * The Redis modules, loaded by the redis commands only: they bring ioredis (about 10 MiB of a process), which a
 * PostgreSQL backup, restore or drill should not carry.
 */
async function loadRedis(): Promise<typeof import('../redis/connection') & typeof import('../commands/redis-backup') & typeof import('../commands/redis-restore')> {
  return { ...(await import('../redis/connection')), ...(await import('../commands/redis-backup')), ...(await import('../commands/redis-restore')) };
}

/** The backup a restore or verify works on, named on its final event even when it fails. */
function nameBackupOn(fields: Record<string, unknown>): (b: CompleteBackup) => void {
  return (b) => Object.assign(fields, backupEventFields(b.manifest));
}

interface CommonFlags extends StorageFlags {
  source?: string;
  json?: boolean;
}

function addRedisUrlOption(cmd: Command): Command {
  return cmd.addOption(new Option('--redis-url <url>', 'redis://[USER:PASSWORD@]HOST[:PORT] or rediss:// for TLS').env(ENV.redisUrl));
}

function redisUrlFrom(flags: { redisUrl?: string }, ctx: RunContext): string | undefined {
  // REDIS_URL is the common convention outside Lifeboat; accepted as a fallback.
  return flags.redisUrl ?? (ctx.env[ENV.redisUrl] || ctx.env.REDIS_URL || undefined);
}

function totalKeys(counts: Record<string, number> | undefined): number {
  return Object.values(counts ?? {}).reduce((n, c) => n + c, 0);
}

export function registerRedis(program: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const redis = program.command('redis').description('Redis backups: backup, restore, verify');

  const backup = redis.command('backup').description('snapshot a Redis into storage (RDB over replication, or --method dump)');
  addStorageOptions(backup);
  addRedisUrlOption(backup);
  addSourceOption(backup, 'source name in the storage layout (default: the host)');
  backup
    .option('--method <method>', 'rdb (a snapshot over the replication protocol) or dump (SCAN + DUMP, for managed Redis)', 'rdb')
    .option('--class <class>', `force a class (${BACKUP_CLASSES.join(', ')}); default: chosen from the calendar`)
    .addOption(new Option('--encrypt-to <recipient>', 'age recipient (public key); repeatable').argParser(collect));
  addJsonOption(backup);
  backup.action(async (flags: CommonFlags & { redisUrl?: string; method: string; class?: string; encryptTo?: string[] }) => {
    const fields: Record<string, unknown> = { [EVENT_FIELDS.engine]: 'redis', [EVENT_FIELDS.source]: sourceFrom(flags, ctx) };
    const code = await runAction(ctx, { succeeded: EVENTS.redisBackupSucceeded, failed: EVENTS.redisBackupFailed }, fields, async () => {
      const { parseRedisUrl, redisSourceName, runRedisBackup } = await loadRedis();
      if (!(REDIS_METHODS as readonly string[]).includes(flags.method)) {
        throw usageError('method_invalid', `--method expected ${REDIS_METHODS.join(' or ')}, got ${JSON.stringify(flags.method)}`);
      }
      if (flags.class !== undefined && !(BACKUP_CLASSES as readonly string[]).includes(flags.class)) {
        throw usageError('class_invalid', `--class expected one of ${BACKUP_CLASSES.join(', ')}, got ${JSON.stringify(flags.class)}`);
      }
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

  const restore = redis.command('restore').description('restore a Redis backup into a Redis (RESTORE ... REPLACE, expiry kept)').argument('<backup>', 'backup id or "latest"');
  addStorageOptions(restore);
  addRedisUrlOption(restore);
  addSourceOption(restore, 'source name (needed for "latest" when the storage holds several)');
  restore
    .option('--flush', 'delete every key of the target first (FLUSHALL); needs --yes')
    .option('--yes', 'confirm --flush');
  addIdentityOption(restore);
  addJsonOption(restore);
  restore.action(async (ref: string, flags: CommonFlags & { redisUrl?: string; flush?: boolean; yes?: boolean; identityFile?: string }) => {
    const fields: Record<string, unknown> = { [EVENT_FIELDS.engine]: 'redis', [EVENT_FIELDS.source]: sourceFrom(flags, ctx) };
    const code = await runAction(ctx, { succeeded: EVENTS.redisRestoreSucceeded, failed: EVENTS.redisRestoreFailed }, fields, async () => {
      const { parseRedisUrl, runRedisRestore, compareKeyCounts } = await loadRedis();
      const conn = parseRedisUrl(redisUrlFrom(flags, ctx));
      const storage = await openStorageFrom(flags, ctx);
      const identityText = await identityFrom(flags, ctx);
      const r = await runRedisRestore(
        { conn, storage, ref, source: sourceFrom(flags, ctx), flush: flags.flush, yes: flags.yes, identityText, onResolved: nameBackupOn(fields) },
        { ctx },
      );
      const m = r.backup.manifest;
      const restoredAndExpired = Object.fromEntries(
        [...new Set([...Object.keys(r.stats.restored), ...Object.keys(r.stats.expired)])].map((db) => [db, (r.stats.restored[db] ?? 0) + (r.stats.expired[db] ?? 0)]),
      );
      const checks = compareKeyCounts(m.redisKeys ?? {}, m.redisExpiringKeys ?? {}, restoredAndExpired);
      const passed = checks.every((c) => c.ok);
      const restored = totalKeys(r.stats.restored);
      const expired = totalKeys(r.stats.expired);
      ctx.stdout.write(
        flags.json
          ? JSON.stringify({ backupId: m.id, restored: r.stats.restored, expired: r.stats.expired, databases: checks, passed }, null, 2) + '\n'
          : checks.map((c) => `db${c.db}: ${r.stats.restored[c.db] ?? 0} restored, ${r.stats.expired[c.db] ?? 0} expired (backup had ${c.expected})${c.ok ? '' : '  MISMATCH'}\n`).join(''),
      );
      return {
        exitCode: passed ? 0 : 1,
        message: passed
          ? `restored ${restored} keys of redis backup ${m.id} into ${conn.host}:${conn.port}${expired ? ` (${expired} had expired)` : ''}`
          : `restore of ${m.id} wrote key counts that differ from the manifest: ${checks.filter((c) => !c.ok).map((c) => `db${c.db} ${c.actual}/${c.expected}`).join(', ')}`,
        fields: {
          ...backupEventFields(m),
          keys: restored,
          expiredKeys: expired,
          flushed: r.flushed,
        },
      };
    });
    setExit(code);
  });

  const verify = redis.command('verify').description('load a Redis backup into a scratch redis-server and compare key counts with the manifest').argument('<backup>', 'backup id or "latest"');
  addStorageOptions(verify);
  addSourceOption(verify, 'source name (needed for "latest" when the storage holds several)');
  addIdentityOption(verify);
  addJsonOption(verify);
  verify.action(async (ref: string, flags: CommonFlags & { identityFile?: string }) => {
    const fields: Record<string, unknown> = { [EVENT_FIELDS.engine]: 'redis', [EVENT_FIELDS.source]: sourceFrom(flags, ctx) };
    const code = await runAction(ctx, { succeeded: EVENTS.redisVerifySucceeded, failed: EVENTS.redisVerifyFailed }, fields, async () => {
      const { runRedisVerify } = await loadRedis();
      const storage = await openStorageFrom(flags, ctx);
      const identityText = await identityFrom(flags, ctx);
      const r = await runRedisVerify({ storage, ref, source: sourceFrom(flags, ctx), identityText, onResolved: nameBackupOn(fields) }, { ctx });
      const m = r.backup.manifest;
      ctx.stdout.write(
        flags.json
          ? JSON.stringify({ backupId: m.id, databases: r.databases, passed: r.passed }, null, 2) + '\n'
          : r.databases
              .map((d) => `db${d.db}: ${d.actual} keys loaded, manifest ${d.expected}${d.expiredSince ? ` (${d.expiredSince} with a TTL expired since)` : ''}  ${d.ok ? 'ok' : 'MISMATCH'}\n`)
              .join(''),
      );
      const bad = r.databases.filter((d) => !d.ok);
      return {
        exitCode: r.passed ? 0 : 1,
        message: r.passed
          ? `redis backup ${m.id} loads and holds the keys its manifest records`
          : `redis backup ${m.id} key counts differ from its manifest: ${bad.map((d) => `db${d.db} loaded ${d.actual}, manifest ${d.expected}`).join('; ')}`,
        fields: {
          ...backupEventFields(m),
          [EVENT_FIELDS.passed]: r.passed,
          keys: totalKeys(m.redisKeys),
        },
      };
    });
    setExit(code);
  });
}
