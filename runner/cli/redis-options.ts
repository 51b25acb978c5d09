/** What the `lifeboat redis` subcommands share: the Redis URL flag, the common flags, event fields. */
import { Option, type Command } from 'commander';
import { ENV } from '../contract/env';
import type { RunContext } from '../context';
import type { CompleteBackup } from '../catalog/catalog';
import { backupEventFields } from './action';
import type { StorageFlags } from './options';

export interface RedisCommonFlags extends StorageFlags {
  source?: string;
  json?: boolean;
}

export function addRedisUrlOption(cmd: Command): Command {
  return cmd.addOption(new Option('--redis-url <url>', 'redis://[USER:PASSWORD@]HOST[:PORT] or rediss:// for TLS').env(ENV.redisUrl));
}

export function redisUrlFrom(flags: { redisUrl?: string }, ctx: RunContext): string | undefined {
  // REDIS_URL is the common convention outside Lifeboat; accepted as a fallback.
  return flags.redisUrl ?? (ctx.env[ENV.redisUrl] || ctx.env.REDIS_URL || undefined);
}

export function totalKeys(counts: Record<string, number> | undefined): number {
  return Object.values(counts ?? {}).reduce((n, c) => n + c, 0);
}

/** The backup a restore or verify works on, named on its final event even when it fails. */
export function nameBackupOn(fields: Record<string, unknown>): (b: CompleteBackup) => void {
  return (b) => Object.assign(fields, backupEventFields(b.manifest));
}
