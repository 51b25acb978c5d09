/** `lifeboat redis verify`: flags → runRedisVerify (runner/commands/redis-verify.ts). */
import type { Command } from 'commander';
import { EVENTS, EVENT_FIELDS } from '../contract/events';
import type { RunContext } from '../context';
import { backupEventFields, runAction } from './action';
import { addIdentityOption, addJsonOption, addSourceOption, addStorageOptions, identityFrom, openStorageFrom, sourceFrom } from './options';
import { nameBackupOn, totalKeys, type RedisCommonFlags } from './redis-options';

export function registerRedisVerify(group: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const verify = group.command('verify').description('load a Redis backup into a scratch redis-server and compare key counts with the manifest').argument('<backup>', 'backup id or "latest"');
  addStorageOptions(verify);
  addSourceOption(verify, 'source name (needed for "latest" when the storage holds several)');
  addIdentityOption(verify);
  addJsonOption(verify);
  verify.action(async (ref: string, flags: RedisCommonFlags & { identityFile?: string }) => {
    const fields: Record<string, unknown> = { [EVENT_FIELDS.engine]: 'redis', [EVENT_FIELDS.source]: sourceFrom(flags, ctx) };
    const code = await runAction(ctx, { succeeded: EVENTS.redisVerifySucceeded, failed: EVENTS.redisVerifyFailed }, fields, async () => {
      const { runRedisVerify } = await import('../commands/redis-verify');
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
