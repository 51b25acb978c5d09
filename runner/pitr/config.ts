/**
 * pgBackRest's configuration for one protected cluster, as Lifeboat writes it: one folder per source under the
 * configuration folder, holding
 *
 *   pgbackrest.conf     the stanza (data directory, socket, port, repository), mode 0644: no secret in it
 *   secret/cipher.conf  the repository's cipher passphrase, mode 0600 (the folder 0700), owned by the cluster's
 *                       OS user; pgBackRest reads it through --config-include-path
 *   secret/s3.conf      an S3 repository's access key, when init was given one (same mode and owner)
 *   secret/gcs.conf     a GCS repository's key: the path of secret/gcs-key.json (a copy of the service-account
 *                       key file init was given) or an emulator's token (same mode and owner)
 *   lifeboat.json       what the other `pitr` commands need to find the cluster again (no secret)
 *
 * The same files are read by `archive_command` (run by the server as its OS user), so every file belongs to
 * that user. The stanza is the source name: one cluster, one stanza, one repository path.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { runtimeError, usageError } from '../errors';
import type { OsUser } from './os-user';

export const PITR_CONFIG_FORMAT_VERSION = 1;

export const pitrConfigSchema = z.object({
  formatVersion: z.literal(PITR_CONFIG_FORMAT_VERSION),
  source: z.string(),
  /** The cluster's data directory (pgBackRest's pg1-path). */
  pgdata: z.string(),
  /** pgBackRest connects over the Unix socket only: the server's socket folder and port. */
  socketDir: z.string(),
  port: z.number().int(),
  /** The database user pgBackRest connects as (a superuser or one with the backup functions granted). */
  pgUser: z.string(),
  /** The database the heartbeats live in (the URL's database). */
  database: z.string(),
  /** The PostgreSQL major version (for the server binaries a drill starts). */
  pgMajor: z.number().int(),
  /** The repository's path: a folder, or the key prefix in an S3 or GCS bucket (`repo1-path`). */
  repoPath: z.string(),
  /** The storage URL the repository lives in (drill reports go there too). */
  storageUrl: z.string(),
  /** An S3 repository; null for a folder. */
  s3: z
    .object({
      bucket: z.string(),
      /** The endpoint's host and port (pgBackRest speaks HTTPS only). */
      endpoint: z.string(),
      port: z.number().int().nullable(),
      /** The endpoint as given (--s3-endpoint), for Lifeboat's own client; null for AWS. */
      endpointUrl: z.string().nullable(),
      region: z.string(),
      uriStyle: z.enum(['host', 'path']),
      /** A CA bundle to verify the endpoint with (AWS_CA_BUNDLE at init). */
      caFile: z.string().nullable(),
      /** shared: a key in secret/s3.conf; auto: the instance's or task's role. */
      keyType: z.enum(['shared', 'auto']),
    })
    .nullable()
    .default(null),
  /** A GCS repository; null otherwise. */
  gcs: z
    .object({
      bucket: z.string(),
      /**
       * The endpoint's host, with its port when not 443 (pgBackRest's repo1-gcs-endpoint; it speaks HTTPS only).
       * pgBackRest 2.45's GCS driver ignores repo1-storage-port: the port must be part of the endpoint.
       */
      endpoint: z.string(),
      /** An emulator's endpoint as given (STORAGE_EMULATOR_HOST at init); null for Google's. */
      endpointUrl: z.string().nullable(),
      /** A CA bundle to verify an emulator's endpoint with (NODE_EXTRA_CA_CERTS at init); null for Google's. */
      caFile: z.string().nullable(),
      /**
       * service: a key file, copied into secret/; auto: the instance's service account (metadata server);
       * token: an emulator's fixed bearer token (in secret/gcs.conf).
       */
      keyType: z.enum(['service', 'auto', 'token']),
    })
    .nullable()
    .default(null),
  encrypted: z.boolean(),
  /** archive_timeout set by `pitr init`: the longest a quiet server waits before a WAL segment is archived. */
  archiveTimeoutSeconds: z.number().int(),
});
export type PitrConfig = z.infer<typeof pitrConfigSchema>;

export interface PitrPaths {
  dir: string;
  conf: string;
  secretDir: string;
  cipherConf: string;
  s3Conf: string;
  gcsConf: string;
  gcsKeyFile: string;
  lifeboat: string;
  log: string;
  lock: string;
  spool: string;
}

export function pitrPaths(configDir: string, source: string): PitrPaths {
  const dir = path.join(path.resolve(configDir), source);
  return {
    dir,
    conf: path.join(dir, 'pgbackrest.conf'),
    secretDir: path.join(dir, 'secret'),
    cipherConf: path.join(dir, 'secret', 'cipher.conf'),
    s3Conf: path.join(dir, 'secret', 's3.conf'),
    gcsConf: path.join(dir, 'secret', 'gcs.conf'),
    // Not *.conf: pgBackRest reads every .conf file in the include folder as configuration.
    gcsKeyFile: path.join(dir, 'secret', 'gcs-key.json'),
    lifeboat: path.join(dir, 'lifeboat.json'),
    log: path.join(dir, 'log'),
    lock: path.join(dir, 'lock'),
    spool: path.join(dir, 'spool'),
  };
}

/** The options that make pgBackRest read exactly this source's configuration (and no /etc/pgbackrest). */
export function configArgs(paths: PitrPaths, source: string): string[] {
  return [`--config=${paths.conf}`, `--config-include-path=${paths.secretDir}`, `--stanza=${source}`];
}

/**
 * The value of `archive_command`. Single quotes are refused in paths rather than escaped: the value goes through
 * postgresql.conf quoting and then a shell.
 */
export function archiveCommand(paths: PitrPaths, source: string, pgbackrest = 'pgbackrest'): string {
  const args = configArgs(paths, source);
  for (const a of [pgbackrest, ...args]) {
    if (/['"\s\\]/.test(a)) throw usageError('pitr_path_invalid', `paths used in archive_command may not hold quotes, spaces or backslashes, got ${JSON.stringify(a)}`);
  }
  return [pgbackrest, ...args, 'archive-push', '%p'].join(' ');
}

/** pgbackrest.conf: an INI file with [global] and one section named after the stanza. */
export function renderPgbackrestConf(cfg: PitrConfig, paths: PitrPaths): string {
  const repo: [string, string][] = cfg.gcs
    ? [
        ['repo1-type', 'gcs'],
        ['repo1-path', cfg.repoPath],
        ['repo1-gcs-bucket', cfg.gcs.bucket],
        ['repo1-gcs-endpoint', cfg.gcs.endpoint],
        ...(cfg.gcs.caFile ? [['repo1-storage-ca-file', cfg.gcs.caFile] as [string, string]] : []),
        ['repo1-gcs-key-type', cfg.gcs.keyType],
      ]
    : cfg.s3
    ? [
        ['repo1-type', 's3'],
        ['repo1-path', cfg.repoPath],
        ['repo1-s3-bucket', cfg.s3.bucket],
        ['repo1-s3-endpoint', cfg.s3.endpoint],
        ...(cfg.s3.port !== null ? [['repo1-s3-port', String(cfg.s3.port)] as [string, string]] : []),
        ['repo1-s3-region', cfg.s3.region],
        ['repo1-s3-uri-style', cfg.s3.uriStyle],
        ...(cfg.s3.caFile ? [['repo1-s3-ca-file', cfg.s3.caFile] as [string, string]] : []),
        ['repo1-s3-key-type', cfg.s3.keyType],
      ]
    : [
        ['repo1-type', 'posix'],
        ['repo1-path', cfg.repoPath],
      ];
  const global: [string, string][] = [
    ...repo,
    // Two full backups kept: a restore can always reach back to the older one while the newer is taken.
    ['repo1-retention-full', '2'],
    ['log-path', paths.log],
    ['lock-path', paths.lock],
    ['spool-path', paths.spool],
    ['log-level-console', 'warn'],
    ['log-level-stderr', 'error'],
    ['log-level-file', 'info'],
    // A backup checkpoints at once instead of waiting for the next scheduled checkpoint.
    ['start-fast', 'y'],
    ['compress-type', 'zst'],
  ];
  if (cfg.encrypted) global.push(['repo1-cipher-type', 'aes-256-cbc']);
  const stanza: [string, string][] = [
    ['pg1-path', cfg.pgdata],
    ['pg1-socket-path', cfg.socketDir],
    ['pg1-port', String(cfg.port)],
    ['pg1-user', cfg.pgUser],
  ];
  const section = (name: string, kv: [string, string][]): string => `[${name}]\n${kv.map(([k, v]) => `${k}=${v}`).join('\n')}\n`;
  return `# Written by lifeboat pitr init. The cipher passphrase, when there is one, is in secret/ (mode 0600).\n${section('global', global)}\n${section(cfg.source, stanza)}`;
}

export function renderCipherConf(pass: string): string {
  return `[global]\nrepo1-cipher-pass=${pass}\n`;
}

export interface S3Key {
  accessKeyId: string;
  secretAccessKey: string;
}

export function renderS3Conf(key: S3Key): string {
  return `[global]\nrepo1-s3-key=${key.accessKeyId}\nrepo1-s3-key-secret=${key.secretAccessKey}\n`;
}

/**
 * A GCS repository's credential: a service-account key file (its JSON, copied into the secret part: the server
 * runs archive_command without the runner's environment, and the original may not be readable by its OS user), or
 * an emulator's bearer token. None for key type auto.
 */
export type GcsKey = { kind: 'service'; json: string } | { kind: 'token'; token: string };

export function renderGcsConf(key: GcsKey, paths: PitrPaths): string {
  return `[global]\nrepo1-gcs-key=${key.kind === 'service' ? paths.gcsKeyFile : key.token}\n`;
}

/** Writes the configuration, every file owned by the cluster's OS user; the secret part 0600 in a 0700 folder. */
export async function writePitrConfig(cfg: PitrConfig, paths: PitrPaths, owner: OsUser, cipherPass: string | null, s3Key: S3Key | null = null, gcsKey: GcsKey | null = null): Promise<void> {
  for (const [d, mode] of [[paths.dir, 0o755], [paths.secretDir, 0o700], [paths.log, 0o750], [paths.lock, 0o750], [paths.spool, 0o750]] as const) {
    await fs.mkdir(d, { recursive: true, mode });
    await fs.chmod(d, mode);
    await owner.chown(d);
  }
  const write = async (file: string, text: string, mode: number): Promise<void> => {
    // Created with its final mode: a secret is never readable by others, not even for a moment.
    await fs.writeFile(file, text, { mode, flag: 'w' });
    await fs.chmod(file, mode);
    await owner.chown(file);
  };
  if (cipherPass !== null) await write(paths.cipherConf, renderCipherConf(cipherPass), 0o600);
  if (s3Key !== null) await write(paths.s3Conf, renderS3Conf(s3Key), 0o600);
  if (gcsKey?.kind === 'service') await write(paths.gcsKeyFile, gcsKey.json, 0o600);
  if (gcsKey !== null) await write(paths.gcsConf, renderGcsConf(gcsKey, paths), 0o600);
  await write(paths.conf, renderPgbackrestConf(cfg, paths), 0o644);
  await write(paths.lifeboat, JSON.stringify(cfg, null, 2) + '\n', 0o644);
}

/** The configuration `pitr init` wrote for `source`; a missing one names the folder and the command to run. */
export async function readPitrConfig(configDir: string, source: string): Promise<{ cfg: PitrConfig; paths: PitrPaths }> {
  const paths = pitrPaths(configDir, source);
  let text: string;
  try {
    text = await fs.readFile(paths.lifeboat, 'utf8');
  } catch {
    throw usageError('pitr_not_initialised', `no PITR configuration for source "${source}" in ${path.resolve(configDir)}`, 'Run "lifeboat pitr init" first (or pass --config-dir)');
  }
  const parsed = pitrConfigSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw runtimeError('pitr_config_invalid', `${paths.lifeboat} is not a configuration this runner understands`);
  return { cfg: parsed.data, paths };
}

/** The sources configured in a folder: `pitr` commands need no --source when there is exactly one. */
export async function configuredSources(configDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(configDir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names) {
    try {
      await fs.access(path.join(configDir, n, 'lifeboat.json'));
      out.push(n);
    } catch {
      /* not a source folder */
    }
  }
  return out.sort();
}

export async function resolveSource(configDir: string, source: string | undefined): Promise<string> {
  if (source) return source;
  const all = await configuredSources(configDir);
  if (all.length === 1) return all[0]!;
  if (all.length === 0) {
    throw usageError('pitr_not_initialised', `no PITR configuration in ${path.resolve(configDir)}`, 'Run "lifeboat pitr init" first (or pass --config-dir)');
  }
  throw usageError('source_missing', `--source expected one of ${all.join(', ')} (several are configured in ${path.resolve(configDir)}), got none`);
}
