/**
 * The manifest: written last, its presence means the backup is complete. It carries what is needed to prove
 * the backup restores (checksum of the stored bytes, per-table row counts taken in the dump's own snapshot).
 */
import { z } from 'zod';
import { BACKUP_CLASSES, BACKUP_ID_PATTERN, ENGINES } from './layout';
import { OBJECT_LOCK_MODES } from './object-lock';

export const MANIFEST_FORMAT_VERSION = 1;

export const BACKUP_KINDS = ['full', 'schema', 'data', 'tables'] as const;
export type BackupKind = (typeof BACKUP_KINDS)[number];

const isoTime = z.iso.datetime({ offset: true });

export const TableRowCountSchema = z.object({
  schema: z.string(),
  name: z.string(),
  /** Exact count(*) in the dump's snapshot; null when the kind carries no data (schema-only). */
  rows: z.number().int().nonnegative().nullable(),
  /**
   * pg_table_size (heap and TOAST, without indexes) while the dump ran (file sizes, not of its snapshot):
   * roughly what the table puts in the dump. A streamed restore deals tables out to its parallel streams by it.
   * Absent in older manifests, or when the sizes could not be read.
   */
  bytes: z.number().int().nonnegative().optional(),
  /**
   * For a partition: the partitioned tables it is a partition of, nearest first (they hold no rows and are not
   * listed themselves). `--table` naming one of them selects its partitions. Absent for other tables, and in
   * older manifests (where a partitioned table cannot be named).
   */
  partitionOf: z.array(z.object({ schema: z.string(), name: z.string() })).min(1).optional(),
});
export type TableRowCount = z.infer<typeof TableRowCountSchema>;

export const PayloadSchema = z.object({
  /** Object name inside the backup folder. */
  object: z.string().min(1),
  /** Bytes produced by the dump tool before compression. */
  rawBytes: z.number().int().nonnegative(),
  /** Bytes stored (after compression and encryption). */
  storedBytes: z.number().int().nonnegative(),
  /** sha256 (hex) of exactly the stored bytes. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  compression: z.enum(['zstd', 'none']),
  /**
   * The zstd frames the compressed bytes are made of, in order (runner/payload/framed-compress.ts): the first
   * holds the archive's header and TOC, each later one whole data blocks. Offsets add up from 0 in the
   * compressed bytes (the stored bytes when not encrypted). A streamed restore fetches only its tables' frames.
   * Absent in older manifests, and when the archive could not be scanned: the payload is then read whole.
   */
  frames: z
    .array(
      z.object({
        /** Archive (uncompressed) bytes in the frame. */
        rawBytes: z.number().int().nonnegative(),
        /** Compressed bytes of the frame. */
        bytes: z.number().int().positive(),
        /** sha256 (hex) of the frame's compressed bytes. */
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
        /** dumpIds (pg_restore --list ids) of the data blocks in the frame. */
        blocks: z.array(z.number().int().positive()),
      }),
    )
    .min(1)
    .optional(),
  /** Encryption scheme, or null when stored in plain text. */
  encryption: z
    .object({
      scheme: z.literal('age'),
      /** sha256 fingerprints of the recipients (never the keys themselves are needed to identify them). */
      recipients: z.array(z.string()).min(1),
    })
    .nullable(),
});

/**
 * The backup's globals object (runner/contract/globals.ts): the roles the database references and the database's
 * own properties. Absent in older manifests (restores then neither check nor create roles, and `--create` makes a
 * plain database as before).
 */
export const GlobalsRefSchema = z.object({
  /** Object name inside the backup folder: `globals.json`, `.age` appended when encrypted. */
  object: z.string().min(1),
  /** Bytes stored. */
  bytes: z.number().int().nonnegative(),
  /** sha256 (hex) of exactly the stored bytes. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Encrypted to the payload's recipients, or null. */
  encryption: z.object({ scheme: z.literal('age'), recipients: z.array(z.string()).min(1) }).nullable(),
  /** How many roles it records. */
  roles: z.number().int().nonnegative(),
  /** Whether it holds the roles' password hashes (`backup --role-passwords`). */
  passwords: z.boolean(),
});
export type GlobalsRef = z.infer<typeof GlobalsRefSchema>;

export const SourceInfoSchema = z.object({
  /** Host and database the dump was taken from; never carries credentials. */
  host: z.string(),
  port: z.number().int().optional(),
  database: z.string().optional(),
  /** 'primary' or 'replica' (when `--prefer-replica` chose a replica). */
  role: z.enum(['primary', 'replica']).default('primary'),
  /** Replay lag of the replica at the start of the dump, in seconds. */
  replicaLagSeconds: z.number().nonnegative().nullable().default(null),
});

export const ManifestSchema = z.object({
  formatVersion: z.literal(MANIFEST_FORMAT_VERSION),
  id: z.string().regex(BACKUP_ID_PATTERN),
  class: z.enum(BACKUP_CLASSES),
  engine: z.enum(ENGINES),
  source: z.string().min(1),
  kind: z.enum(BACKUP_KINDS),
  /** Tables selected with `--table`, as `schema.name`; empty for whole-database kinds. */
  selectedTables: z.array(z.string()).default([]),
  startedAt: isoTime,
  finishedAt: isoTime,
  /** The instant the dump's snapshot was taken: what a restore gets back. RPO is measured from here. */
  snapshotAt: isoTime,
  durationSeconds: z.number().nonnegative(),
  server: z.object({
    /** e.g. "15.18" or "7.0.15" */
    version: z.string(),
    /** PostgreSQL's server_version_num (e.g. 150018); absent for Redis. */
    versionNum: z.number().int().optional(),
  }),
  tools: z.record(z.string(), z.string()),
  sourceInfo: SourceInfoSchema,
  payload: PayloadSchema,
  /** PostgreSQL: the globals object, stored before the manifest; absent in older manifests. */
  globals: GlobalsRefSchema.optional(),
  /** PostgreSQL: exact per-table row counts in the dump's snapshot. */
  tables: z.array(TableRowCountSchema).default([]),
  /**
   * The lock every object of the backup was uploaded with (LIFEBOAT_OBJECT_LOCK): none of them can be deleted
   * before `retainUntil`. Absent when no per-object lock was asked (the bucket's own minimum may still apply).
   */
  lock: z.object({ mode: z.enum(OBJECT_LOCK_MODES), retainUntil: isoTime }).optional(),
  /** Redis: key count per logical database, e.g. {"0": 120, "3": 4}. */
  redisKeys: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** Redis: of those, keys with an expiry per logical database (they may be gone by the time of a verify). */
  redisExpiringKeys: z.record(z.string(), z.number().int().nonnegative()).optional(),
});

export type Manifest = z.infer<typeof ManifestSchema>;
/** What a writer builds: defaults may be omitted. */
export type ManifestInput = z.input<typeof ManifestSchema>;

export function serializeManifest(m: ManifestInput): string {
  return JSON.stringify(ManifestSchema.parse(m), null, 2) + '\n';
}

/** Parses a stored manifest; `where` names the object in the error. */
export function parseManifest(text: string, where: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`manifest ${where} is not valid JSON: ${(e as Error).message}`);
  }
  const r = ManifestSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new Error(`manifest ${where} is invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data;
}
