/** `lifeboat redis restore`: flags → runRedisRestore (runner/commands/redis-restore.ts). */
import type { Command } from 'commander';
import { EVENTS, EVENT_FIELDS } from '../contract/events';
import type { RunContext } from '../context';
import { backupEventFields, runAction } from './action';
import { addIdentityOption, addJsonOption, addSourceOption, addStorageOptions, identityFrom, openStorageFrom, sourceFrom } from './options';
import { addRedisUrlOption, nameBackupOn, redisUrlFrom, totalKeys, type RedisCommonFlags } from './redis-options';

export function registerRedisRestore(group: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const restore = group.command('restore').description('restore a Redis backup into a Redis (RESTORE ... REPLACE, expiry kept)').argument('<backup>', 'backup id or "latest"');
  addStorageOptions(restore);
  addRedisUrlOption(restore);
  addSourceOption(restore, 'source name (needed for "latest" when the storage holds several)');
  restore
    .option('--flush', 'delete every key of the target first (FLUSHALL); needs --yes')
    .option('--yes', 'confirm --flush');
  addIdentityOption(restore);
  addJsonOption(restore);
  restore.action(async (ref: string, flags: RedisCommonFlags & { redisUrl?: string; flush?: boolean; yes?: boolean; identityFile?: string }) => {
    const fields: Record<string, unknown> = { [EVENT_FIELDS.engine]: 'redis', [EVENT_FIELDS.source]: sourceFrom(flags, ctx) };
    const code = await runAction(ctx, { succeeded: EVENTS.redisRestoreSucceeded, failed: EVENTS.redisRestoreFailed }, fields, async () => {
      const { parseRedisUrl } = await import('../redis/connection');
      const { runRedisRestore } = await import('../commands/redis-restore');
      const conn = parseRedisUrl(redisUrlFrom(flags, ctx));
      const storage = await openStorageFrom(flags, ctx);
      const identityText = await identityFrom(flags, ctx);
      const r = await runRedisRestore(
        { conn, storage, ref, source: sourceFrom(flags, ctx), flush: flags.flush, yes: flags.yes, identityText, onResolved: nameBackupOn(fields) },
        { ctx },
      );
      const m = r.backup.manifest;
      const checks = r.databases;
      const passed = r.passed;
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
}
