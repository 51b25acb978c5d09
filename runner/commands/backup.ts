/**
 * `lifeboat backup`: one PostgreSQL logical backup into storage.
 *
 *   pg_dump -Fc -Z0 --snapshot S ─(count raw bytes)─▶ zstd -3, in frames cut at data blocks ─▶ [age] ─▶ sha256
 *     ─▶ storage.put(payload); the frames' index (framed-compress.ts) goes into the manifest
 *   the snapshot's transaction: exact count(*) per table, concurrently, open until pg_dump has exited
 *   the snapshot's transaction also reads the globals: the roles the database references and its own properties
 *   then: globals.json[.age] (runner/payload/globals.ts), then manifest.json (storage.putBytes), last
 *   with an object lock, each of the three is uploaded locked for the class's retention (runner/retention/object-lock.ts)
 *
 * runBackup(opts, deps) → { manifest, manifestKey, payloadKey }, in named steps: chooseDumpSource (the primary
 * or a close enough replica), planBackup (snapshot, tables, class, id), startDump (runner/payload/running-dump.ts:
 * pg_dump, the framed compressor, the row counts, the verdict), storePayload (the upload), manifestOf.
 * Collaborators (storage, logger, clock, spawner, abort signal) are injected.
 *
 * Success is decided by pg_dump's exit code and stderr (any "pg_dump: error" line fails), by zstd's exit code
 * and by the row counts; until all three are known the upload's last bytes are held back (HashingStream gate),
 * so a failed dump aborts the upload and nothing is stored under the payload's name. The manifest is written
 * only after the payload is stored whole.
 */
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import type { Client } from 'pg';
import type { RunContext } from '../context';
import {
  ENGINES,
  SOURCE_NAME_PATTERN,
  backupPrefix,
  globalsName,
  manifestKey as manifestKeyOf,
  newBackupId,
  payloadKey as payloadKeyOf,
  payloadName,
  type BackupClass,
} from '../contract/layout';
import type { GlobalsInput } from '../contract/globals';
import { serializeManifest, type BackupKind, type GlobalsRef, type Manifest, type ManifestInput, type TableRowCount } from '../contract/manifest';
import { createEncryptor, type Encryptor } from '../crypto/age';
import { listBackups } from '../catalog/catalog';
import { chooseClass } from '../retention/classify';
import { backupRetention, checkLockable, type ObjectLockPolicy } from '../retention/object-lock';
import { LifeboatError, runtimeError, usageError } from '../errors';
import { connectPg, describeConn, type ConnInfo } from '../pg/connection';
import { foreignKeysLeavingSelection, listBackupTables, qualified, resolveTablesWithPartitions, type BackupTable, type TableRef } from '../pg/tables';
import { readCatalogFingerprint } from '../pg/catalog-fingerprint';
import { readDatabaseProperties } from '../pg/database-properties';
import { readRoles } from '../pg/globals';
import { chooseSource, type SourceChoice } from '../pg/replica';
import { openSnapshot, snapshotSessionLost, type Snapshot } from '../pg/snapshot';
import { findTool, serverMajor, type ToolCandidate } from '../pg/tools';
import { HashingStream } from '../pipeline/hash';
import { frameMinBytes } from '../payload/framed-compress';
import { storeGlobals } from '../payload/globals';
import { startPiecedDump } from '../payload/pieced-dump';
import { holdPiecedTables, pieceBytesFromEnv, planPiecedTables, type PiecedTable } from '../pg/table-pieces';
import { defaultSpawner, type Spawner } from '../pipeline/spawn';
import type { ObjectRetention, Storage } from '../storage/types';
import { findZstd, zstdCompressArgs, zstdLevelFromEnv } from '../payload/zstd';
import { backupInterrupted, startDump, type DumpKind, type RunningDump } from '../payload/running-dump';

export type { DumpKind } from '../payload/running-dump';


export interface BackupOptions {
  conn: ConnInfo;
  storage: Storage;
  /** Source name in the layout; default: the database name. */
  source?: string;
  /** full (default), schema or data. With `tables` a full backup is recorded as kind `tables`. */
  kind?: DumpKind;
  /** `--table` arguments: NAME or SCHEMA.NAME, validated against the database. */
  tables?: string[];
  /**
   * Forces a class (`manual` for backups by hand); default: the longest class whose current period has no
   * complete backup of this kind yet (runner/retention/classify.ts).
   */
  requestedClass?: BackupClass;
  /** age recipients (public keys); empty: no encryption. */
  encryptTo?: string[];
  /**
   * --prefer-replica: dump from this streaming replica of `conn` when its replay lag is within the bound, else
   * from `conn` (runner/pg/replica.ts says when a replica is passed over).
   */
  preferReplica?: { conn: ConnInfo; maxLagSeconds: number };
  /** Called once the class and id are chosen: a failure after that names the (incomplete) backup folder. */
  onPlanned?: (planned: { cls: BackupClass; id: string }) => void;
  /**
   * --role-passwords: record the roles' password hashes in the globals object (a secret: encrypted with the
   * payload when it is). Refused on servers that do not let the user read them (Cloud SQL, RDS).
   */
  rolePasswords?: boolean;
  /** --object-lock / LIFEBOAT_OBJECT_LOCK: lock every object of the backup for its class's retention. */
  objectLock?: ObjectLockPolicy;
  /**
   * --jobs: with more than one, the large tables' rows are dumped by that many COPY sessions in the snapshot,
   * in pieces, beside pg_dump, into the same archive (runner/pg/table-pieces.ts). Whole-database and --table
   * backups only; a data-only or schema-only backup is one pg_dump.
   */
  jobs?: number;
}

export interface BackupDeps {
  ctx: Pick<RunContext, 'env' | 'logger' | 'now' | 'signal' | 'stderr'>;
  spawner?: Spawner;
  /** The random suffix of backup ids (tests). */
  random?: () => string;
}

export interface BackupResult {
  manifest: Manifest;
  manifestKey: string;
  payloadKey: string;
}

export function sourceNameFor(conn: ConnInfo, source: string | undefined): string {
  const name = source ?? conn.database;
  if (!SOURCE_NAME_PATTERN.test(name)) {
    throw usageError(
      'source_invalid',
      `${source ? '--source' : 'the database name (the default source name)'} must match ${SOURCE_NAME_PATTERN}, got ${JSON.stringify(name)}`,
      source ? undefined : 'Pass --source NAME',
    );
  }
  return name;
}

export async function runBackup(opts: BackupOptions, deps: BackupDeps): Promise<BackupResult> {
  const { ctx } = deps;
  const kind = opts.kind ?? 'full';
  // The source is named after the primary's database, whichever server is dumped.
  const source = sourceNameFor(opts.conn, opts.source);
  checkLockable(opts.objectLock, opts.storage);
  const from = await chooseDumpSource(opts, ctx);
  const startedAt = ctx.now();
  ctx.signal.throwIfAborted();

  const zstd = await findZstd();
  const frameMin = frameMinBytes(ctx.env);
  // A bad LIFEBOAT_PIECE_KIB or LIFEBOAT_ZSTD_LEVEL is refused before anything is contacted.
  pieceBytesFromEnv(ctx.env, 0, opts.jobs ?? 1);
  const compressArgs = zstdCompressArgs(zstdLevelFromEnv(ctx.env));
  const client = await connectPg(from.conn);
  // Aborted on any failure or on ctx.signal: stops the children and the upload.
  const abort = new AbortController();
  const onCtxAbort = (): void => abort.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onCtxAbort, { once: true });
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const plan = await planBackup(client, opts, from, source, kind, startedAt, deps).catch((e: unknown) => {
      throw snapshotSessionLost(e, from.conn, 'opening the snapshot and reading the tables, roles and catalog in it');
    });
    ctx.logger.info({ source, class: plan.cls, backupId: plan.id, tables: plan.countedTables.length }, `backup of ${describeConn(from.conn)} started`);
    const pieced = plan.pieced.length
      ? await startPiecedDump({
          conn: from.conn,
          snapshotId: plan.snap.id,
          tables: plan.pieced,
          jobs: opts.jobs ?? 1,
          spawner: deps.spawner ?? defaultSpawner,
          zstd: { path: zstd.path, args: compressArgs },
          env: ctx.env,
        })
      : null;
    if (pieced) cleanups.push(pieced.cleanup);
    const running = startDump(client, plan, from.conn, kind, { path: zstd.path, args: compressArgs, frameMin }, pieced, abort, deps);
    const stored = await storePayload(opts.storage, plan, running, abort, ctx);
    await client.query('COMMIT').catch((e: unknown) => {
      throw snapshotSessionLost(e, from.conn, "ending the snapshot's transaction after the payload was stored");
    });

    let globals: GlobalsRef;
    try {
      globals = await storeGlobals(opts.storage, plan.globalsKey, plan.globalsObject, plan.globals, opts.encryptTo ?? [], plan.retention);
    } catch (e) {
      throw storageError(e, opts.storage.url);
    }
    const manifest = manifestOf(plan, from, running, stored, globals, { source, startedAt, finishedAt: ctx.now(), zstdVersion: zstd.version });
    const text = serializeManifest(manifest);
    try {
      await opts.storage.putBytes(plan.manifestKey, text, { contentType: 'application/json', ...(plan.retention ? { retention: plan.retention } : {}) });
    } catch (e) {
      throw storageError(e, opts.storage.url);
    }
    return { manifest: JSON.parse(text) as Manifest, manifestKey: plan.manifestKey, payloadKey: plan.payloadKey };
  } finally {
    ctx.signal.removeEventListener('abort', onCtxAbort);
    // Ends the snapshot's transaction (rolled back if still open).
    await client.end().catch(() => undefined);
    for (const c of cleanups) await c().catch(() => undefined);
  }
}

/** The server a backup dumps: the primary, or a streaming replica close enough to it (runner/pg/replica.ts). */
type DumpSource = Omit<SourceChoice, 'fallbackReason'>;

async function chooseDumpSource(opts: BackupOptions, ctx: BackupDeps['ctx']): Promise<DumpSource> {
  if (!opts.preferReplica) return { conn: opts.conn, role: 'primary', lagSeconds: null };
  const choice = await chooseSource(opts.conn, opts.preferReplica.conn, opts.preferReplica.maxLagSeconds, ctx.logger);
  return { conn: choice.conn, role: choice.role, lagSeconds: choice.lagSeconds };
}

/**
 * What a backup will be, decided in its snapshot before anything is written. `onPlanned` hears the class and id
 * as soon as they are chosen, so a failure after that (a bad age recipient included) names the backup.
 */
interface BackupPlan {
  snap: Snapshot;
  pgDump: ToolCandidate;
  /** The tables `--table` selected (empty: the whole database), partitioned ones with their partitions. */
  selected: TableRef[];
  /** Every table with rows, with the partitioned tables it belongs to (recorded in the manifest). */
  allTables: BackupTable[];
  /** The tables whose rows are counted into the manifest. */
  countedTables: TableRef[];
  manifestKind: BackupKind;
  cls: BackupClass;
  id: string;
  encryptor: Encryptor | null;
  object: string;
  payloadKey: string;
  manifestKey: string;
  /** The roles and the database's properties, read in the snapshot; stored before the manifest. */
  globals: GlobalsInput;
  globalsObject: string;
  globalsKey: string;
  /** The lock of every object of this backup: its class's retention from the run's start. */
  retention?: ObjectRetention;
  /** --jobs: the tables whose rows the COPY sessions dump, in pieces, instead of pg_dump. */
  pieced: PiecedTable[];
  /** With pieces: pg_dump's --encoding, the server's (the pieces' own). */
  dumpEncoding: string | null;
}

async function planBackup(
  client: Client,
  opts: BackupOptions,
  from: DumpSource,
  source: string,
  kind: DumpKind,
  startedAt: Date,
  deps: BackupDeps,
): Promise<BackupPlan> {
  const { ctx } = deps;
  const snap = await openSnapshot(client);
  const pgDump = await findTool('pg_dump', serverMajor(snap.serverVersionNum), `the server runs PostgreSQL ${snap.serverVersion}`, ctx.env);

  const allTables = await listBackupTables(client);
  // A partitioned table named with --table is dumped with its partitions (pg_dump --table alone dumps only its definition).
  const chosen = opts.tables?.length ? resolveTablesWithPartitions(opts.tables, allTables, `database ${from.conn.database}`) : null;
  const selected = chosen?.tables ?? [];
  const countedTables = chosen?.leaves ?? allTables;
  // A --table dump that carries a foreign key but not the table it references cannot be restored: refused here,
  // before anything is written, rather than published and found out at restore time.
  if (selected.length && kind !== 'data') {
    const dangling = await foreignKeysLeavingSelection(client, selected);
    if (dangling.length) {
      const named = dangling.map((f) => `${qualified(f.table)} (${f.constraint} references ${qualified(f.references)})`);
      const missing = [...new Set(dangling.map((f) => qualified(f.references)))];
      throw usageError(
        'table_references_outside',
        `--table: ${named.join(', ')}: a backup without the referenced table${missing.length === 1 ? '' : 's'} could not be restored; nothing was written`,
        `Add ${missing.map((m) => `--table ${m}`).join(' ')}, or back up the whole database`,
      );
    }
  }
  const manifestKind: BackupKind = selected.length && kind === 'full' ? 'tables' : kind;
  // The globals in the dump's own snapshot (runner/pg/globals.ts says why not pg_dumpall); refused up front when
  // --role-passwords cannot be honoured.
  const { roles, memberships } = await readRoles(client, snap.serverVersionNum, { passwords: Boolean(opts.rolePasswords), user: from.conn.user });
  const globals: GlobalsInput = {
    formatVersion: 1,
    roles,
    memberships,
    database: await readDatabaseProperties(client),
    // The whole database's catalog: what a full or schema backup restores (a --table one restores part of it).
    ...(selected.length === 0 && kind !== 'data' ? { catalog: await readCatalogFingerprint(client) } : {}),
  };

  const existing = await listBackups(opts.storage, { engine: 'postgres', source }).catch((e: unknown) => {
    throw storageError(e, opts.storage.url, 'read');
  });
  // Only backups of this kind take a period: a schema-only job must not take the yearly slot of the full ones.
  const cls = chooseClass(
    snap.at,
    existing.map((b) => ({ cls: b.cls, at: new Date(b.manifest.snapshotAt), kind: b.manifest.kind })),
    opts.requestedClass,
    manifestKind,
  );
  const id = await freshBackupId(opts.storage, cls, source, startedAt, deps.random);
  opts.onPlanned?.({ cls, id });
  const jobs = opts.jobs ?? 1;
  // A data-only archive has no TABLE entries for the pieces' entries to depend on: it stays one pg_dump.
  const pieced = kind === 'full' ? await planPiecedTables(client, countedTables, { jobs, pieceBytes: pieceBytesFromEnv(ctx.env, snap.databaseSize, jobs), serverVersionNum: snap.serverVersionNum }) : [];
  const dumpEncoding = pieced.length ? await holdPiecedTables(client, pieced) : null;
  const encryptTo = opts.encryptTo ?? [];
  const encryptor = encryptTo.length ? await createEncryptor(encryptTo) : null;
  const object = payloadName('postgres', encryptor !== null);
  const globalsObject = globalsName(encryptor !== null);
  return {
    snap,
    pgDump,
    selected,
    allTables,
    countedTables,
    manifestKind,
    cls,
    id,
    encryptor,
    object,
    payloadKey: payloadKeyOf(cls, 'postgres', source, id, object),
    manifestKey: manifestKeyOf(cls, 'postgres', source, id),
    globals,
    globalsObject,
    globalsKey: payloadKeyOf(cls, 'postgres', source, id, globalsObject),
    retention: backupRetention(opts.objectLock, cls, startedAt),
    pieced,
    dumpEncoding,
  };
}

/** What was stored: the payload's bytes and digest, and the row counts the verdict gave. */
interface StoredPayload {
  hasher: HashingStream;
  tables: TableRowCount[];
}

/**
 * Uploads the compressed (and maybe encrypted) payload. Its last bytes wait for the dump's verdict (HashingStream's
 * gate), so a failed dump aborts the upload and nothing is stored under the payload's name. Always waits for the
 * children and the counts, whatever failed, so nothing is left running.
 */
async function storePayload(storage: Storage, plan: BackupPlan, running: RunningDump, abort: AbortController, ctx: BackupDeps['ctx']): Promise<StoredPayload> {
  const hasher = new HashingStream(async () => void (await running.verdict));
  const stages: NodeJS.ReadWriteStream[] = plan.encryptor ? [plan.encryptor.stream, hasher] : [hasher];
  // Errors of any stage destroy the others; storage.put then rejects and publishes nothing.
  pipeline([running.comp.output, ...stages] as unknown as [Readable, ...NodeJS.ReadWriteStream[]], () => undefined);

  // A storage failure that came first is the cause; the dump's failure then is only its consequence.
  let storageFailure: unknown;
  try {
    await storage.put(plan.payloadKey, hasher, { signal: abort.signal, contentType: 'application/octet-stream', ...(plan.retention ? { retention: plan.retention } : {}) });
  } catch (e) {
    // An upload that failed on its own; one stopped by our abort (a failed zstd, row counts, pg_dump, an
    // interruption) only echoes that cause, which the verdict reports.
    if (!abort.signal.aborted) storageFailure = e;
    abort.abort(e);
  }
  running.progress.done();
  const outcome = await running.verdict.then(
    (tables) => ({ ok: true as const, tables }),
    (e: unknown) => ({ ok: false as const, error: e }),
  );
  if (ctx.signal.aborted) throw backupInterrupted(ctx.signal);
  if (storageFailure) throw storageError(storageFailure, storage.url);
  if (!outcome.ok) throw outcome.error;
  return { hasher, tables: outcome.tables };
}

/** The manifest of a stored payload (runner/contract/manifest.ts). */
function manifestOf(
  plan: BackupPlan,
  from: DumpSource,
  running: RunningDump,
  stored: StoredPayload,
  globals: GlobalsRef,
  run: { source: string; startedAt: Date; finishedAt: Date; zstdVersion: string },
): ManifestInput {
  const { hasher, tables } = stored;
  // An index that does not add up to what was stored would only send restores to the whole-payload path.
  const indexed = running.comp.index();
  const frames = indexed && (plan.encryptor || indexed.reduce((sum, f) => sum + f.bytes, 0) === hasher.bytes) ? indexed : null;
  return {
    formatVersion: 1,
    id: plan.id,
    class: plan.cls,
    engine: ENGINES[0],
    source: run.source,
    kind: plan.manifestKind,
    selectedTables: plan.selected.map(qualified),
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt.toISOString(),
    // A replica's data is as old as its replay lag: RPO is measured from here, so do not claim fresher.
    snapshotAt: new Date(plan.snap.at.getTime() - (from.lagSeconds ?? 0) * 1000).toISOString(),
    durationSeconds: Math.round(run.finishedAt.getTime() - run.startedAt.getTime()) / 1000,
    server: { version: plan.snap.serverVersion, versionNum: plan.snap.serverVersionNum },
    tools: { pg_dump: plan.pgDump.version, zstd: run.zstdVersion, ...(plan.encryptor ? { age: 'age-encryption' } : {}) },
    sourceInfo: {
      host: from.conn.host,
      port: from.conn.port,
      database: from.conn.database,
      role: from.role,
      replicaLagSeconds: from.lagSeconds,
    },
    payload: {
      object: plan.object,
      rawBytes: running.rawBytes(),
      storedBytes: hasher.bytes,
      sha256: hasher.sha256,
      compression: 'zstd',
      ...(frames ? { frames } : {}),
      encryption: plan.encryptor ? { scheme: 'age', recipients: plan.encryptor.fingerprints } : null,
    },
    globals,
    tables: tables.map((t) => {
      const partitionOf = plan.allTables.find((a) => a.schema === t.schema && a.name === t.name)?.partitionOf;
      return partitionOf ? { ...t, partitionOf } : t;
    }),
    ...(plan.retention ? { lock: { mode: plan.retention.mode, retainUntil: plan.retention.retainUntil.toISOString() } } : {}),
  };
}

/**
 * A backup id whose folder holds nothing yet. Two backups of one source started in the same second differ in
 * the id's random suffix; should the suffix repeat, a stored backup would be overwritten, so taken ids are
 * skipped (an upload still in flight is invisible until it completes: concurrent runs rely on the suffix).
 */
async function freshBackupId(storage: Storage, cls: BackupClass, source: string, at: Date, random?: () => string): Promise<string> {
  for (let attempt = 0; attempt < 16; attempt++) {
    const id = newBackupId(at, random);
    let taken = false;
    try {
      for await (const _ of storage.list(backupPrefix(cls, 'postgres', source, id))) {
        taken = true;
        break;
      }
    } catch (e) {
      throw storageError(e, storage.url, 'read');
    }
    if (!taken) return id;
  }
  throw runtimeError('backup_id_taken', `no free backup id for ${source} at ${at.toISOString()} after 16 attempts in ${storage.url}`);
}

/** Storage failures as exit-1 errors that name the storage (the backends already wrap the common ones). */
function storageError(e: unknown, url: string, op: 'read' | 'write' = 'write'): unknown {
  if (e instanceof LifeboatError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code && /^E[A-Z]+$/.test(code)) {
    return runtimeError(
      op === 'write' ? 'storage_not_writable' : 'storage_unreadable',
      `storage ${url} ${op === 'write' ? 'is not writable' : 'cannot be read'} (${code}: ${(e as Error).message})`,
      'Check the path exists and that this user may write to it, or choose another --storage',
    );
  }
  return e;
}
