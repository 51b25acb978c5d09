/** Flags the `pitr` subcommands share: the configuration folder, the source, a folder storage, the passphrase. */
import { Option, type Command } from 'commander';
import type { RunContext } from '../context';
import { ENV } from '../contract/env';
import { usageError } from '../errors';
import { registerSecret } from '../redact';
import { LocalStorage } from '../storage/local';

export const DEFAULT_PITR_CONFIG_DIR = '/etc/lifeboat/pitr';

export interface PitrCommonFlags {
  configDir?: string;
  source?: string;
  json?: boolean;
}

export function addPitrCommonOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--config-dir <dir>', `pgBackRest configuration folder, one subfolder per source (default ${DEFAULT_PITR_CONFIG_DIR})`).env(ENV.pitrConfigDir))
    .addOption(new Option('--source <name>', 'which configured source (needed when several are)').env(ENV.source));
}

export function configDirFrom(flags: PitrCommonFlags, ctx: RunContext): string {
  return flags.configDir ?? ctx.env.LIFEBOAT_PITR_CONFIG_DIR ?? DEFAULT_PITR_CONFIG_DIR;
}

/** The passphrase from the environment only: a flag would show in process listings. */
export function cipherPassFrom(ctx: RunContext): string | undefined {
  const v = ctx.env.LIFEBOAT_PITR_CIPHER_PASS || undefined;
  if (v) registerSecret(v);
  return v;
}

/** Where `pitr init` puts the repository: a folder, an S3 bucket or a GCS bucket. */
export type PitrStorageTarget = { kind: 'folder'; root: string; url: string } | { kind: 's3' | 'gcs'; bucket: string; prefix: string; url: string };

export function pitrStorageFrom(value: string | undefined): PitrStorageTarget {
  if (!value) throw usageError('storage_missing', '--storage (or LIFEBOAT_STORAGE) expected a folder, s3:// or gs:// URL for the pgBackRest repository, got nothing');
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(value);
  if (s3) return { kind: 's3', bucket: s3[1]!, prefix: s3[2]!.replace(/\/+$/, ''), url: value.replace(/\/+$/, '') };
  const gs = /^gs:\/\/([^/]+)\/?(.*)$/.exec(value);
  if (gs) return { kind: 'gcs', bucket: gs[1]!, prefix: gs[2]!.replace(/\/+$/, ''), url: value.replace(/\/+$/, '') };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !value.startsWith('file://')) {
    throw usageError('pitr_storage_unsupported', `--storage expected a folder, file://, s3:// or gs:// URL for the pgBackRest repository, got ${value.split('://')[0]}:// (not supported for PITR yet)`);
  }
  const local = new LocalStorage(value);
  return { kind: 'folder', root: local.root, url: local.url };
}
