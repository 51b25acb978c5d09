/**
 * `lifeboat backup`: one PostgreSQL logical backup into storage.
 *
 *   pg_dump -Fc -Z0 --snapshot S ─(count raw bytes)─▶ zstd -3, in frames cut at data blocks ─▶ [age] ─▶ sha256
 *     ─▶ storage.put(payload); the frames' index (framed-compress.ts) goes into the manifest
 *   the snapshot's transaction: exact count(*) per table, concurrently, open until pg_dump has exited
 *   then: manifest.json (storage.putBytes), last
 *
 * Reusable: runBackup(opts, deps) → { manifest, manifestKey, payloadKey }. Drills, clone and --prefer-replica
 * build on it; collaborators (storage, logger, clock, spawner, abort signal) are injected.
 *
 * Success is decided by pg_dump's exit code and stderr (any "pg_dump: error" line fails), by zstd's exit code
 * and by the row counts; until all three are known the upload's last bytes are held back (HashingStream gate),
 * so a failed dump aborts the upload and nothing is stored under the payload's name. The manifest is written
 * only after the payload is stored whole.
 */
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import type { RunContext } from '../context';
import {
  ENGINES,
  SOURCE_NAME_PATTERN,
  backupPrefix,
  manifestKey as manifestKeyOf,
  newBackupId,
  payloadKey as payloadKeyOf,
  payloadName,
  type BackupClass,
} from '../contract/layout';
import { serializeManifest, type BackupKind, type Manifest, type ManifestInput, type TableRowCount } from '../contract/manifest';
import { createEncryptor } from '../crypto/age';
import { listBackups } from '../catalog/catalog';
import { chooseClass } from '../retention/classify';
import { LifeboatError, runtimeError, usageError } from '../errors';
import { connectPg, pgToolEnv, describeConn, type ConnInfo } from '../pg/connection';
import { countRows, listBackupTables, qualified, quoteTable, resolveTables, tableSizes, type TableRef } from '../pg/tables';
import { openSnapshot } from '../pg/snapshot';
import { findTool, serverMajor } from '../pg/tools';
import { HashingStream } from '../pipeline/hash';
import { createFramedCompressor, frameMinBytes } from '../payload/framed-compress';
import { createProgress } from '../pipeline/progress';
import { childSucceeded, defaultSpawner, describeChildFailure, watchChild, type Spawner } from '../pipeline/spawn';
import type { Storage } from '../storage/types';
import { findZstd, ZSTD_COMPRESS_ARGS } from '../payload/zstd';

export interface BackupOptions {
  conn: ConnInfo;
  storage: Storage;
  /** Source name in the layout; default: the database name. */
  source?: string;
  /** full (default), schema or data. With `tables` a full backup is recorded as kind `tables`. */
  kind?: 'full' | 'schema' | 'data';
  /** `--table` arguments: NAME or SCHEMA.NAME, validated against the database. */
  tables?: string[];
  /** Forces a class (`manual` for backups by hand); default: chosen from the calendar (DESIGN.md). */
  requestedClass?: BackupClass;
  /** age recipients (public keys); empty: no encryption. */
  encryptTo?: string[];
  /** For --prefer-replica (issue 4): what the connection points at. */
  sourceRole?: 'primary' | 'replica';
  replicaLagSeconds?: number | null;
  /** Called once the class and id are chosen: a failure after that names the (incomplete) backup folder. */
  onPlanned?: (planned: { cls: BackupClass; id: string }) => void;
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

function dumpArgs(snapshot: string, kind: 'full' | 'schema' | 'data', tables: TableRef[]): string[] {
  const args = ['--format=custom', '--compress=0', '--no-password', `--snapshot=${snapshot}`];
  if (kind === 'schema') args.push('--schema-only');
  if (kind === 'data') args.push('--data-only');
  // Quoted patterns match exactly: wildcard characters inside double quotes are literal.
  for (const t of tables) args.push(`--table=${quoteTable(t)}`);
  return args;
}

export async function runBackup(opts: BackupOptions, deps: BackupDeps): Promise<BackupResult> {
  const { ctx } = deps;
  const spawner = deps.spawner ?? defaultSpawner;
  const kind = opts.kind ?? 'full';
  const source = sourceNameFor(opts.conn, opts.source);
  const encryptTo = opts.encryptTo ?? [];
  const startedAt = ctx.now();
  ctx.signal.throwIfAborted();

  const zstd = await findZstd();
  const frameMin = frameMinBytes(ctx.env);
  const client = await connectPg(opts.conn);
  // Aborted on any failure or on ctx.signal: stops the children and the upload.
  const abort = new AbortController();
  const onCtxAbort = (): void => abort.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onCtxAbort, { once: true });
  try {
    const snap = await openSnapshot(client);
    const pgDump = await findTool('pg_dump', serverMajor(snap.serverVersionNum), `the server runs PostgreSQL ${snap.serverVersion}`, ctx.env);

    const allTables = await listBackupTables(client);
    const selected = opts.tables?.length ? resolveTables(opts.tables, allTables, `database ${opts.conn.database}`) : [];
    const countedTables = selected.length ? selected : allTables;
    const manifestKind: BackupKind = selected.length && kind === 'full' ? 'tables' : kind;

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
    const encryptor = encryptTo.length ? await createEncryptor(encryptTo) : null;
    const object = payloadName('postgres', encryptor !== null);
    const payloadKey = payloadKeyOf(cls, 'postgres', source, id, object);
    const manifestKey = manifestKeyOf(cls, 'postgres', source, id);
    ctx.logger.info({ source, class: cls, backupId: id, tables: countedTables.length }, `backup of ${describeConn(opts.conn)} started`);

    // The dump and its compressor.
    const env = pgToolEnv(opts.conn, ctx.env);
    const dump = watchChild('pg_dump', spawner(pgDump.path, dumpArgs(snap.id, kind, selected), { env, stdio: ['ignore', 'pipe', 'pipe'] }), (line) => {
      if (!/: error:/.test(line)) ctx.logger.warn({ tool: 'pg_dump' }, line);
    });
    // zstd in frames cut where the archive's data blocks start, with their index (framed-compress.ts).
    const comp = createFramedCompressor(spawner, zstd.path, ZSTD_COMPRESS_ARGS, ctx.env, frameMin);
    const killAll = (): void => {
      dump.kill();
      comp.kill();
    };
    abort.signal.addEventListener('abort', killAll, { once: true });
    // A failed zstd stops pg_dump; its verdict below then names zstd, not the pg_dump it killed.
    const compressionFailed = new Error('compression failed');
    void comp.done.then((r) => {
      if (!childSucceeded(r)) abort.abort(compressionFailed);
    });

    let rawBytes = 0;
    const progress = createProgress(ctx.stderr, 'backup', snap.databaseSize);
    const dumpOut = dump.child.stdout!;
    dumpOut.on('data', (chunk: Buffer) => {
      rawBytes += chunk.length;
      progress.update(rawBytes);
    });
    dumpOut.pipe(comp.input);

    // Row counts in the dump's snapshot, while it runs.
    const counts: Promise<TableRowCount[]> =
      kind === 'schema'
        ? Promise.resolve(countedTables.map((t) => ({ schema: t.schema, name: t.name, rows: null })))
        : countRows(client, countedTables).then(async (rows) => {
            // Only a hint for restores: a backup does not fail for want of it.
            const sizes = await tableSizes(client, countedTables).catch(() => null);
            return sizes ? rows.map((r, i) => ({ ...r, bytes: sizes[i] })) : rows;
          });
    counts.catch(() => abort.abort(new Error('row counts failed')));

    // The verdict on everything but the upload; the upload's end waits for it.
    const verdict = (async (): Promise<TableRowCount[]> => {
      const [d, c] = await Promise.all([dump.done, comp.done]);
      if (ctx.signal.aborted) throw interrupted(ctx.signal);
      // What stopped the children first is the cause: zstd's failure (it stops pg_dump), pg_dump's own (zstd then
      // ends normally), or the row counts' (below: both children were stopped for it).
      const stoppedFor = abort.signal.aborted ? abort.signal.reason : null;
      if (!childSucceeded(c) && (stoppedFor === null || stoppedFor === compressionFailed)) throw runtimeError('compress_failed', describeChildFailure(c));
      if (!childSucceeded(d) && stoppedFor === null) throw runtimeError('dump_failed', describeChildFailure(d));
      let tables: TableRowCount[];
      try {
        tables = await counts;
      } catch (e) {
        throw runtimeError('row_count_failed', `counting rows in the dump's snapshot failed: ${(e as Error).message}`);
      }
      // Stopped for another reason (the upload failed: reported as such below): never a success.
      if (!childSucceeded(c) || !childSucceeded(d)) throw runtimeError('dump_failed', `the dump was stopped (${(stoppedFor as Error | null)?.message ?? 'stopped'})`);
      return tables;
    })();
    verdict.catch(() => abort.abort(new Error('backup failed')));

    const hasher = new HashingStream(async () => void (await verdict));
    const stages: NodeJS.ReadWriteStream[] = encryptor ? [encryptor.stream, hasher] : [hasher];
    // Errors of any stage destroy the others; storage.put then rejects and publishes nothing.
    pipeline([comp.output, ...stages] as unknown as [Readable, ...NodeJS.ReadWriteStream[]], () => undefined);

    // A storage failure that came first is the cause; the dump's failure then is only its consequence.
    let storageFailure: unknown;
    try {
      await opts.storage.put(payloadKey, hasher, { signal: abort.signal, contentType: 'application/octet-stream' });
    } catch (e) {
      // An upload that failed on its own; one stopped by our abort (a failed zstd, row counts, pg_dump, an
      // interruption) only echoes that cause, which the verdict reports.
      if (!abort.signal.aborted) storageFailure = e;
      abort.abort(e);
    }
    progress.done();
    // Always wait for the children and the counts, whatever failed, so nothing is left running.
    const outcome = await verdict.then(
      (tables) => ({ ok: true as const, tables }),
      (e: unknown) => ({ ok: false as const, error: e }),
    );
    if (ctx.signal.aborted) throw interrupted(ctx.signal);
    if (storageFailure) throw storageError(storageFailure, opts.storage.url);
    if (!outcome.ok) throw outcome.error;
    await client.query('COMMIT');

    // An index that does not add up to what was stored would only send restores to the whole-payload path.
    const indexed = comp.index();
    const frames = indexed && (encryptor || indexed.reduce((sum, f) => sum + f.bytes, 0) === hasher.bytes) ? indexed : null;
    const finishedAt = ctx.now();
    const manifest: ManifestInput = {
      formatVersion: 1,
      id,
      class: cls,
      engine: ENGINES[0],
      source,
      kind: manifestKind,
      selectedTables: selected.map(qualified),
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      // A replica's data is as old as its replay lag: RPO is measured from here, so do not claim fresher.
      snapshotAt: new Date(snap.at.getTime() - (opts.replicaLagSeconds ?? 0) * 1000).toISOString(),
      durationSeconds: Math.round((finishedAt.getTime() - startedAt.getTime())) / 1000,
      server: { version: snap.serverVersion, versionNum: snap.serverVersionNum },
      tools: { pg_dump: pgDump.version, zstd: zstd.version, ...(encryptor ? { age: 'age-encryption' } : {}) },
      sourceInfo: {
        host: opts.conn.host,
        port: opts.conn.port,
        database: opts.conn.database,
        role: opts.sourceRole ?? 'primary',
        replicaLagSeconds: opts.replicaLagSeconds ?? null,
      },
      payload: {
        object,
        rawBytes,
        storedBytes: hasher.bytes,
        sha256: hasher.sha256,
        compression: 'zstd',
        ...(frames ? { frames } : {}),
        encryption: encryptor ? { scheme: 'age', recipients: encryptor.fingerprints } : null,
      },
      tables: outcome.tables,
    };
    const text = serializeManifest(manifest);
    try {
      await opts.storage.putBytes(manifestKey, text, { contentType: 'application/json' });
    } catch (e) {
      throw storageError(e, opts.storage.url);
    }
    return { manifest: JSON.parse(text) as Manifest, manifestKey, payloadKey };
  } finally {
    ctx.signal.removeEventListener('abort', onCtxAbort);
    // Ends the snapshot's transaction (rolled back if still open).
    await client.end().catch(() => undefined);
  }
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

function interrupted(signal: AbortSignal): LifeboatError {
  const why = signal.reason instanceof Error ? signal.reason.message : 'interrupted';
  return runtimeError('interrupted', `backup ${why}: nothing was published`);
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
