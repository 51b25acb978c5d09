/**
 * `lifeboat pitr init`: pgBackRest for one self-hosted cluster. Checks the cluster (the data directory given is
 * the server's, a Unix socket pgBackRest can use), writes the configuration with the repository inside the
 * storage (`<root>/pitr/<source>/`), creates the stanza, and sets archive_mode, archive_command and
 * archive_timeout with ALTER SYSTEM (`--apply`) or prints exactly what to set. Whatever it created is removed
 * again when a later step fails.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, realpathSync } from 'node:fs';
import path from 'node:path';
import type { RunContext } from '../context';
import { runtimeError, usageError } from '../errors';
import { connectPg, type ConnInfo } from '../pg/connection';
import { serverMajor } from '../pg/tools';
import { registerSecret } from '../redact';
import { archiveCommand, pitrPaths, writePitrConfig, PITR_CONFIG_FORMAT_VERSION, type GcsKey, type PitrConfig, type S3Key } from '../pitr/config';
import { ownerOf, type OsUser } from '../pitr/os-user';
import { runPgbackrest } from '../pitr/pgbackrest';

export interface PitrInitOptions {
  conn: ConnInfo;
  pgdata: string;
  /** Where the repository goes: `<root>/pitr/<source>/` in a folder or under the bucket's prefix. */
  storage: { kind: 'folder'; root: string; url: string } | { kind: 's3' | 'gcs'; bucket: string; prefix: string; url: string };
  /** S3: the endpoint (https only: pgBackRest speaks nothing else), the region, a CA bundle, a key (else the role). */
  s3Endpoint?: string;
  s3Region?: string;
  s3CaFile?: string;
  s3Key?: S3Key;
  /**
   * GCS: an emulator's https endpoint (else Google's), a CA bundle for it, a service-account key file (else the
   * instance's service account; with an emulator, a fixed bearer token).
   */
  gcsEndpoint?: string;
  gcsCaFile?: string;
  gcsKeyFile?: string;
  configDir: string;
  source: string;
  encrypt: boolean;
  /** A passphrase to use instead of a new random one (a repository that already exists, encrypted). */
  cipherPass?: string;
  apply: boolean;
  archiveTimeoutSeconds?: number;
}

export interface PitrInitResult {
  config: PitrConfig;
  configFile: string;
  cipherFile: string | null;
  /** The settings, as `name = 'value'` lines for postgresql.conf. */
  settings: Record<string, string>;
  applied: boolean;
  restartNeeded: boolean;
  /** `pgbackrest check` ran (archiving proven end to end); false when a restart must come first. */
  checked: boolean;
}

interface ServerFacts {
  dataDirectory: string;
  socketDir: string;
  port: number;
  versionNum: number;
  walLevel: string;
  archiveMode: string;
  inRecovery: boolean;
}

async function serverFacts(conn: ConnInfo): Promise<ServerFacts> {
  const c = await connectPg(conn);
  try {
    const r = await c.query<Record<string, string>>(`SELECT current_setting('data_directory') AS data, current_setting('unix_socket_directories') AS sockets,
      current_setting('port') AS port, current_setting('server_version_num') AS version, current_setting('wal_level') AS wal_level,
      current_setting('archive_mode') AS archive_mode, pg_is_in_recovery()::text AS in_recovery`);
    const x = r.rows[0]!;
    return {
      dataDirectory: x.data!,
      socketDir: x.sockets!.split(',').map((s) => s.trim()).filter((s) => s.startsWith('/'))[0] ?? '',
      port: Number(x.port),
      versionNum: Number(x.version),
      walLevel: x.wal_level!,
      archiveMode: x.archive_mode!,
      inRecovery: x.in_recovery === 'true',
    };
  } catch (e) {
    if ((e as { code?: string }).code === '42501') {
      throw usageError('permission_denied', `user "${conn.user}" may not read the server's settings (data_directory)`, 'pitr init needs a superuser or a member of pg_read_all_settings');
    }
    throw e;
  } finally {
    await c.end().catch(() => undefined);
  }
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return path.resolve(a) === path.resolve(b);
  }
}

/** Creates `dir` and its missing parents below `root`, each owned by the cluster's user; returns those it made. */
async function makeOwnedDirs(root: string, dir: string, owner: OsUser): Promise<string[]> {
  const made: string[] = [];
  const rel = path.relative(root, dir).split(path.sep);
  let cur = root;
  for (const part of rel) {
    cur = path.join(cur, part);
    try {
      await fs.mkdir(cur, { mode: 0o750 });
      made.push(cur);
      await owner.chown(cur);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw runtimeError('storage_unwritable', `cannot create ${cur} for the pgBackRest repository (${(e as NodeJS.ErrnoException).code})`);
      }
    }
  }
  return made;
}

export async function runPitrInit(opts: PitrInitOptions, deps: { ctx: RunContext }): Promise<PitrInitResult> {
  const { ctx } = deps;
  const facts = await serverFacts(opts.conn);
  if (facts.inRecovery) throw usageError('pitr_needs_primary', `--database-url points at a replica; pitr init configures the primary`);
  if (!samePath(facts.dataDirectory, opts.pgdata)) {
    throw usageError('pgdata_mismatch', `--pgdata expected the data directory of the server at --database-url (${facts.dataDirectory}), got ${JSON.stringify(opts.pgdata)}`);
  }
  if (!facts.socketDir) {
    throw usageError('pitr_no_socket', 'the server listens on no Unix socket (unix_socket_directories is empty), and pgBackRest connects only through one', 'Set unix_socket_directories, e.g. to /var/run/postgresql');
  }
  const owner = await ownerOf(opts.pgdata);
  const paths = pitrPaths(opts.configDir, opts.source);
  if (await fs.stat(paths.lifeboat).catch(() => null)) {
    throw usageError('pitr_already_initialised', `PITR is already set up for source "${opts.source}" (${paths.dir})`, 'Remove that folder to start over; the repository is kept');
  }
  const repoPath = opts.storage.kind === 'folder' ? path.join(opts.storage.root, 'pitr', opts.source) : `/${[opts.storage.prefix, 'pitr', opts.source].filter(Boolean).join('/')}`;
  const gcs = opts.storage.kind === 'gcs' ? await gcsSettings(opts.storage.bucket, opts) : null;
  const cfg: PitrConfig = {
    formatVersion: PITR_CONFIG_FORMAT_VERSION,
    source: opts.source,
    pgdata: realpathSync(opts.pgdata),
    socketDir: facts.socketDir,
    port: facts.port,
    pgUser: opts.conn.user,
    database: opts.conn.database,
    pgMajor: serverMajor(facts.versionNum),
    repoPath,
    storageUrl: opts.storage.url,
    s3: opts.storage.kind === 's3' ? s3Settings(opts.storage.bucket, opts) : null,
    gcs: gcs?.settings ?? null,
    encrypted: opts.encrypt,
    archiveTimeoutSeconds: opts.archiveTimeoutSeconds ?? 60,
  };
  const cipherPass = opts.encrypt ? (opts.cipherPass ?? randomBytes(32).toString('base64')) : null;
  if (cipherPass) registerSecret(cipherPass);
  if (opts.s3Key) registerSecret(opts.s3Key.secretAccessKey);

  const configExisted = !!(await fs.stat(paths.dir).catch(() => null));
  const madeRepo = opts.storage.kind === 'folder' ? await makeOwnedDirs(opts.storage.root, repoPath, owner) : [];
  const pg = { paths, source: opts.source, user: owner, env: ctx.env, pgPassword: opts.conn.password, signal: ctx.signal, progress: ctx.stderr };
  // Undo, when a later step fails: the configuration and the repository folders this run created (never a
  // repository that was there), and the server settings as they were.
  const undoFiles = async (): Promise<void> => {
    if (!configExisted) await fs.rm(paths.dir, { recursive: true, force: true });
    else for (const f of [paths.conf, paths.lifeboat, paths.cipherConf, paths.s3Conf, paths.gcsConf, paths.gcsKeyFile]) await fs.rm(f, { force: true });
    for (const d of [...madeRepo].reverse()) await fs.rm(d, { recursive: true, force: true });
  };
  try {
    await writePitrConfig(cfg, paths, owner, cipherPass, opts.storage.kind === 's3' ? (opts.s3Key ?? null) : null, gcs?.key ?? null);
    await runPgbackrest('stanza-create', [], pg);
  } catch (e) {
    await undoFiles();
    throw e;
  }

  const settings: Record<string, string> = {
    archive_mode: 'on',
    archive_command: archiveCommand(paths, opts.source),
    archive_timeout: `${cfg.archiveTimeoutSeconds}s`,
  };
  if (facts.walLevel === 'minimal') settings.wal_level = 'replica';
  const restartNeeded = facts.archiveMode === 'off' || facts.walLevel === 'minimal';
  let checked = false;
  if (opts.apply) {
    let previous: Map<string, string> | null = null;
    try {
      previous = await applySettings(opts.conn, settings);
      if (!restartNeeded) {
        // The reload is asynchronous; check switches WAL and waits (archive-timeout) for the segment to arrive.
        await runPgbackrest('check', [], pg);
        checked = true;
      }
    } catch (e) {
      if (previous) await restoreSettings(opts.conn, Object.keys(settings), previous).catch(() => undefined);
      await undoFiles();
      throw e;
    }
  }
  return { config: cfg, configFile: paths.conf, cipherFile: cipherPass ? paths.cipherConf : null, settings, applied: opts.apply, restartNeeded, checked };
}

function sqlLiteral(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}

/** ALTER SYSTEM SET each setting and reload; returns what postgresql.auto.conf held for them before. */
async function applySettings(conn: ConnInfo, settings: Record<string, string>): Promise<Map<string, string>> {
  const c = await connectPg(conn);
  try {
    const before = await c.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_file_settings WHERE name = ANY($1) AND sourcefile LIKE '%postgresql.auto.conf' ORDER BY seqno`,
      [Object.keys(settings)],
    );
    const previous = new Map(before.rows.map((r) => [r.name, r.setting]));
    for (const [k, v] of Object.entries(settings)) await c.query(`ALTER SYSTEM SET ${k} = ${sqlLiteral(v)}`);
    await c.query('SELECT pg_reload_conf()');
    return previous;
  } catch (e) {
    throw runtimeError('pitr_apply_failed', `ALTER SYSTEM failed: ${(e as Error).message}`, 'pitr init --apply needs a superuser; without --apply it prints the settings instead');
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Puts postgresql.auto.conf back as it was for `names` (RESET where it held nothing) and reloads. */
async function restoreSettings(conn: ConnInfo, names: string[], previous: Map<string, string>): Promise<void> {
  const c = await connectPg(conn);
  try {
    for (const k of names) {
      const old = previous.get(k);
      await c.query(old === undefined ? `ALTER SYSTEM RESET ${k}` : `ALTER SYSTEM SET ${k} = ${sqlLiteral(old)}`);
    }
    await c.query('SELECT pg_reload_conf()');
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** pgBackRest's S3 settings from Lifeboat's flags: an https endpoint (path-style), or AWS's regional one. */
function s3Settings(bucket: string, opts: PitrInitOptions): NonNullable<PitrConfig['s3']> {
  const region = opts.s3Region;
  if (!region) throw usageError('s3_region_missing', '--s3-region (or AWS_REGION) expected the bucket\'s region for an s3:// repository, got nothing');
  const common = { bucket, region, caFile: opts.s3CaFile ?? null, keyType: opts.s3Key ? ('shared' as const) : ('auto' as const) };
  if (!opts.s3Endpoint) return { ...common, endpoint: `s3.${region}.amazonaws.com`, port: null, endpointUrl: null, uriStyle: 'host' };
  const u = new URL(opts.s3Endpoint);
  if (u.protocol !== 'https:') {
    throw usageError('s3_endpoint_not_https', `--s3-endpoint expected an https:// URL for a pgBackRest repository (pgBackRest speaks only HTTPS to S3), got ${u.protocol}//`);
  }
  return { ...common, endpoint: u.hostname, port: u.port ? Number(u.port) : null, endpointUrl: opts.s3Endpoint, uriStyle: 'path' };
}

/**
 * The token pgBackRest sends to a GCS emulator (key type token): the Firebase Storage emulator takes `owner` as
 * its administrator; other emulators ignore it. Never used against Google.
 */
export const GCS_EMULATOR_TOKEN = 'owner';

/**
 * pgBackRest's GCS settings: Google's endpoint or an emulator's (https only), and the credential: a
 * service-account key file (copied into the secret part), else the instance's service account, or for an
 * emulator without a key file its fixed token.
 */
export async function gcsSettings(bucket: string, opts: PitrInitOptions): Promise<{ settings: NonNullable<PitrConfig['gcs']>; key: GcsKey | null }> {
  let key: GcsKey | null = null;
  if (opts.gcsKeyFile) {
    let json: string;
    try {
      json = await fs.readFile(opts.gcsKeyFile, 'utf8');
    } catch (e) {
      throw usageError('gcs_key_file_unreadable', `GOOGLE_APPLICATION_CREDENTIALS expected a readable service-account key file, got ${opts.gcsKeyFile} (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
    registerSecret(json);
    let type: unknown;
    try {
      const parsed = JSON.parse(json) as { type?: unknown; private_key?: unknown };
      type = parsed.type;
      if (typeof parsed.private_key === 'string') registerSecret(parsed.private_key);
    } catch {
      type = undefined;
    }
    if (type !== 'service_account') {
      // pgBackRest signs its own tokens with a service account's private key; gcloud's user credentials cannot.
      throw usageError('gcs_key_not_service_account', `GOOGLE_APPLICATION_CREDENTIALS expected a service-account key file (JSON with "type": "service_account") for a pgBackRest repository, got ${type === undefined ? 'a file that is not one' : `"type": ${JSON.stringify(type)}`} in ${opts.gcsKeyFile}`, 'Unset it to use the instance\'s service account (metadata server)');
    }
    key = { kind: 'service', json };
  }
  if (!opts.gcsEndpoint) {
    return { settings: { bucket, endpoint: 'storage.googleapis.com', endpointUrl: null, caFile: null, keyType: key ? 'service' : 'auto' }, key };
  }
  const u = new URL(opts.gcsEndpoint);
  if (u.protocol !== 'https:') {
    throw usageError('gcs_endpoint_not_https', `STORAGE_EMULATOR_HOST expected an https:// URL for a pgBackRest repository (pgBackRest speaks only HTTPS to GCS), got ${u.protocol}//`);
  }
  key ??= { kind: 'token', token: GCS_EMULATOR_TOKEN };
  return { settings: { bucket, endpoint: u.host, endpointUrl: opts.gcsEndpoint, caFile: opts.gcsCaFile ?? null, keyType: key.kind }, key };
}
