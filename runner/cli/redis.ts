/**
 * `lifeboat redis backup|restore|verify`. Each subcommand loads its command module (and with it ioredis, about
 * 10 MiB of a process) only when it runs, so a PostgreSQL backup, restore or drill does not carry it.
 */
import type { Command } from 'commander';
import type { RunContext } from '../context';
import { registerRedisBackup } from './redis-backup';
import { registerRedisRestore } from './redis-restore';
import { registerRedisVerify } from './redis-verify';

export function registerRedis(program: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const redis = program.command('redis').description('Redis backups: backup, restore, verify');
  registerRedisBackup(redis, ctx, setExit);
  registerRedisRestore(redis, ctx, setExit);
  registerRedisVerify(redis, ctx, setExit);
}
