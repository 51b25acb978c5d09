/**
 * Flags shared by the runner's subcommands, each also read from its environment variable (commander's
 * Option.env for the real process; the RunContext's env as a fallback so in-process tests can inject it).
 */
import { Option, type Command } from 'commander';
import type { RunContext } from '../context';
import { openStorage } from '../storage/open';
import type { Storage } from '../storage/types';
import { parseDatabaseUrl, type ConnInfo } from '../pg/connection';

export interface StorageFlags {
  storage?: string;
  s3Endpoint?: string;
  s3Region?: string;
}

export function addStorageOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--storage <location>', 'folder path, file://, gs:// or s3:// URL').env('LIFEBOAT_STORAGE'))
    .addOption(new Option('--s3-endpoint <url>', 'S3-compatible endpoint (MinIO, R2, an emulator)').env('LIFEBOAT_S3_ENDPOINT'))
    .addOption(new Option('--s3-region <region>', 'S3 region').env('AWS_REGION'));
}

export function addDatabaseUrlOption(cmd: Command): Command {
  return cmd.addOption(new Option('--database-url <url>', 'postgres://USER:PASSWORD@HOST:PORT/DATABASE').env('DATABASE_URL'));
}

export function addSourceOption(cmd: Command, description = 'source name in the storage layout'): Command {
  return cmd.addOption(new Option('--source <name>', description).env('LIFEBOAT_SOURCE'));
}

export function addJsonOption(cmd: Command): Command {
  return cmd.option('--json', 'machine-readable output on stdout');
}

export function openStorageFrom(flags: StorageFlags, ctx: RunContext): Promise<Storage> {
  return openStorage(flags.storage ?? ctx.env.LIFEBOAT_STORAGE, {
    s3Endpoint: flags.s3Endpoint ?? ctx.env.LIFEBOAT_S3_ENDPOINT,
    s3Region: flags.s3Region ?? ctx.env.AWS_REGION,
    env: ctx.env,
  });
}

export function databaseFrom(flags: { databaseUrl?: string }, ctx: RunContext): ConnInfo {
  return parseDatabaseUrl(flags.databaseUrl ?? ctx.env.DATABASE_URL, '--database-url');
}

export function sourceFrom(flags: { source?: string }, ctx: RunContext): string | undefined {
  return flags.source ?? (ctx.env.LIFEBOAT_SOURCE || undefined);
}

/** Collects a repeatable flag. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A list from an environment variable, comma- or whitespace-separated. */
export function envList(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter(Boolean);
}
