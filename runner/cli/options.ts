/**
 * Flags shared by the runner's subcommands, each also read from its environment variable (commander's
 * Option.env for the real process; the RunContext's env as a fallback so in-process tests can inject it), and
 * the parsing of flag values that several subcommands take (durations, sizes, fractions, counts, filters): a bad
 * value is a usage error that names the flag and what was given.
 */
import { Option, type Command } from 'commander';
import type { RunContext } from '../context';
import { openStorage } from '../storage/open';
import type { Storage } from '../storage/types';
import { parseDatabaseUrl, type ConnInfo } from '../pg/connection';
import { ENV } from '../contract/env';
import { DEFAULT_RETENTION_DAYS, ENGINES, SOURCE_NAME_PATTERN, type Engine } from '../contract/layout';
import { formatRetentionDays, parseObjectLockMode, parseRetentionDays } from '../contract/object-lock';
import type { ObjectLockPolicy } from '../retention/object-lock';
import { usageError } from '../errors';
import { validateJobs } from '../restore/plan';
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

/** `backup` and `redis backup`: the per-object lock (runner/contract/object-lock.ts). */
export function addObjectLockOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--object-lock <mode>', 'lock every object of the backup for its class\'s retention: governance or compliance').env(ENV.objectLock))
    .addOption(new Option('--retention-days <list>', `days each class is locked for, e.g. ${formatRetentionDays(DEFAULT_RETENTION_DAYS)}`).env(ENV.retentionDays));
}

/**
 * The lock a backup asks for, from the flags or their variables; undefined without a mode. Both values are
 * checked whenever given (exit 2, naming the flag and the variable), so a typo in a job's environment shows up
 * on its first run even while the lock is off.
 */
export function objectLockFrom(flags: { objectLock?: string; retentionDays?: string }, ctx: RunContext): ObjectLockPolicy | undefined {
  const days = parseRetentionDays(flags.retentionDays ?? ctx.env[ENV.retentionDays], `--retention-days (${ENV.retentionDays})`);
  const mode = parseObjectLockMode(flags.objectLock ?? ctx.env[ENV.objectLock], `--object-lock (${ENV.objectLock})`);
  return mode ? { mode, days } : undefined;
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

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** "26h", "90m", "1h30m", "2d", "3600" (seconds) → seconds; a usage error naming the flag otherwise. */
export function parseDuration(flag: string, value: string): number {
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const parts = [...v.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== v) {
    throw usageError('bad_flag', `${flag} expected a duration like 26h, 90m, 1h30m or 2d, got "${value}"`);
  }
  return Math.round(parts.reduce((n, p) => n + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0));
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** "1048576", "500MB", "2GiB" → bytes. */
export function parseBytes(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw usageError('bad_flag', `${flag} expected a size in bytes (e.g. 1048576, 500MB, 2GiB), got "${value}"`);
  return Math.round(Number(m[1]) * unit);
}

export function parseRatio(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d*\.?\d+$/.test(value.trim()) || !(n > 0 && n <= 1)) {
    throw usageError('bad_flag', `${flag} expected a fraction greater than 0 and at most 1 (e.g. 0.5), got "${value}"`);
  }
  return n;
}

/** A whole number >= 0 for `flag`, or a usage error naming the flag and what was given. */
export function parseCount(flag: string, value: string): number {
  if (!/^\d+$/.test(value.trim())) throw usageError('bad_flag', `${flag} expected a whole number >= 0, got "${value}"`);
  return Number(value);
}

/** Optional `--engine` / `--source` filters shared by prune and status. */
export function parseFilter(o: { engine?: string; source?: string }): { engine?: Engine; source?: string } {
  if (o.engine !== undefined && !(ENGINES as readonly string[]).includes(o.engine)) {
    throw usageError('bad_flag', `--engine expected one of ${ENGINES.join(', ')}, got "${o.engine}"`);
  }
  if (o.source !== undefined && !SOURCE_NAME_PATTERN.test(o.source)) {
    throw usageError('bad_flag', `--source expected a name matching ${String(SOURCE_NAME_PATTERN)}, got "${o.source}"`);
  }
  return { engine: o.engine as Engine | undefined, source: o.source };
}

/** "4" → 4; anything else is a usage error naming the flag. */
export function parseJobs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  return validateJobs(/^\d+$/.test(text.trim()) ? Number(text) : NaN, JSON.stringify(text));
}
