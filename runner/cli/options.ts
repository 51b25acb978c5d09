/**
 * Flags shared by the runner's subcommands, each also read from its environment variable (commander's
 * Option.env for the real process; the RunContext's env as a fallback so in-process tests can inject it).
 */
import { Option, type Command } from 'commander';
import type { RunContext } from '../context';
import { openStorage } from '../storage/open';
import type { Storage } from '../storage/types';
import { parseDatabaseUrl, type ConnInfo } from '../pg/connection';
import { ENV } from '../contract/env';
import { loadIdentity } from '../payload/fetch';
import { registerSecret } from '../redact';

export interface StorageFlags {
  storage?: string;
  s3Endpoint?: string;
  s3Region?: string;
}

export function addStorageOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--storage <location>', 'folder path, file://, gs:// or s3:// URL').env(ENV.storage))
    .addOption(new Option('--s3-endpoint <url>', 'S3-compatible endpoint (MinIO, R2, an emulator)').env(ENV.s3Endpoint))
    .addOption(new Option('--s3-region <region>', 'S3 region').env('AWS_REGION'));
}

export function addDatabaseUrlOption(cmd: Command): Command {
  return cmd.addOption(new Option('--database-url <url>', 'postgres://USER:PASSWORD@HOST:PORT/DATABASE').env(ENV.databaseUrl));
}

export function addSourceOption(cmd: Command, description = 'source name in the storage layout'): Command {
  return cmd.addOption(new Option('--source <name>', description).env(ENV.source));
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

/** `--identity-file` (or LIFEBOAT_AGE_IDENTITY_FILE); LIFEBOAT_AGE_IDENTITY carries the identity itself. */
export function addIdentityOption(cmd: Command): Command {
  return cmd.addOption(
    new Option('--identity-file <file>', `age identity for encrypted backups (or the identity itself in ${ENV.ageIdentity})`).env(
      ENV.ageIdentityFile,
    ),
  );
}

/**
 * The age identity text: from the file when one is named, else from LIFEBOAT_AGE_IDENTITY (Cloud Run and ECS
 * inject secrets as variables). Either way the key is registered as a secret so no log line can carry it.
 */
export async function identityFrom(flags: { identityFile?: string }, ctx: RunContext): Promise<string | undefined> {
  const file = flags.identityFile ?? (ctx.env[ENV.ageIdentityFile] || undefined);
  const text = file ? await loadIdentity(file) : ctx.env[ENV.ageIdentity] || undefined;
  if (text) {
    registerSecret(text.trim());
    for (const line of text.split(/\r?\n/)) registerSecret(line.trim());
  }
  return text;
}
