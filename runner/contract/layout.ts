/**
 * The storage layout: the runner's contract with the buckets. Lifecycle rules, IAM conditions and policies are
 * keyed on these prefixes, so they are computed here and nowhere else.
 *
 *   <root>/<class>/<engine>/<source>/<backup-id>/<payload>
 *   <root>/<class>/<engine>/<source>/<backup-id>/manifest.json   (written last; presence = complete)
 *   <root>/drills/<engine>/<source>/<timestamp>.json
 *   <root>/pitr/<source>/...                                     (a pgBackRest repository, pgBackRest's own layout)
 *   <root>/drills/pitr/<source>/<timestamp>.json                 (PITR drill reports)
 */
import { randomBytes } from 'node:crypto';

export const BACKUP_CLASSES = ['daily', 'weekly', 'monthly', 'yearly', 'manual'] as const;
export type BackupClass = (typeof BACKUP_CLASSES)[number];

/** Scheduled classes from the longest period to the shortest. */
export const SCHEDULED_CLASSES = ['yearly', 'monthly', 'weekly', 'daily'] as const;
export type ScheduledClass = (typeof SCHEDULED_CLASSES)[number];

export const ENGINES = ['postgres', 'redis'] as const;
export type Engine = (typeof ENGINES)[number];

export const MANIFEST_NAME = 'manifest.json';
export const DRILLS_PREFIX = 'drills';

/** Default retention in days per class (docs/design.md, "Storage layout"); the infra's lifecycle rules and `prune` both start here. */
export const DEFAULT_RETENTION_DAYS: Record<BackupClass, number> = {
  daily: 7,
  weekly: 35,
  monthly: 400,
  yearly: 2557,
  manual: 90,
};

/** Payload object names. `.age` is appended when the payload is encrypted. */
export const PAYLOAD_NAMES = {
  postgres: 'dump.pgc.zst',
  redis: 'dump.rdb.zst',
} as const satisfies Record<Engine, string>;

export function payloadName(engine: Engine, encrypted: boolean): string {
  return PAYLOAD_NAMES[engine] + (encrypted ? '.age' : '');
}

/** The PostgreSQL globals object (runner/contract/globals.ts); `.age` is appended when encrypted. */
export const GLOBALS_NAME = 'globals.json';

export function globalsName(encrypted: boolean): string {
  return GLOBALS_NAME + (encrypted ? '.age' : '');
}

/** Source names become path segments: keep them to a safe, portable alphabet. */
export const SOURCE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export const BACKUP_ID_PATTERN = /^(\d{8}T\d{6}Z)-([0-9a-f]{4})$/;

/** A backup id sorts by time: `20261121T020000Z-3f9a` (UTC, second precision, 4 random hex digits). */
export function newBackupId(at: Date, random: () => string = () => randomBytes(2).toString('hex')): string {
  return `${compactTimestamp(at)}-${random()}`;
}

export function compactTimestamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** The time encoded in a backup id. */
export function backupIdTime(id: string): Date {
  const m = BACKUP_ID_PATTERN.exec(id);
  if (!m) throw new Error(`not a backup id: ${JSON.stringify(id)}`);
  const t = m[1]!;
  return new Date(
    `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(9, 11)}:${t.slice(11, 13)}:${t.slice(13, 15)}Z`,
  );
}

/** Prefix of one class of backups, relative to the storage root, with a trailing slash: `daily/`. */
export function classPrefix(cls: BackupClass): string {
  return `${cls}/`;
}

export function sourcePrefix(cls: BackupClass, engine: Engine, source: string): string {
  return `${cls}/${engine}/${source}/`;
}

export function backupPrefix(cls: BackupClass, engine: Engine, source: string, id: string): string {
  return `${sourcePrefix(cls, engine, source)}${id}/`;
}

export function manifestKey(cls: BackupClass, engine: Engine, source: string, id: string): string {
  return backupPrefix(cls, engine, source, id) + MANIFEST_NAME;
}

export function payloadKey(cls: BackupClass, engine: Engine, source: string, id: string, payload: string): string {
  return backupPrefix(cls, engine, source, id) + payload;
}

/** Where `pitr init` puts a source's pgBackRest repository, under the storage root. */
export const PITR_PREFIX = 'pitr';

export function pitrRepoKey(source: string): string {
  return `${PITR_PREFIX}/${source}`;
}

/** PITR drill reports sit beside the logical drills' reports, under their own engine segment. */
export function pitrDrillReportKey(source: string, at: Date): string {
  return `${DRILLS_PREFIX}/pitr/${source}/${compactTimestamp(at)}.json`;
}

export function drillReportKey(engine: Engine, source: string, at: Date): string {
  return `${DRILLS_PREFIX}/${engine}/${source}/${compactTimestamp(at)}.json`;
}

export interface ParsedBackupKey {
  cls: BackupClass;
  engine: Engine;
  source: string;
  id: string;
  /** The object name inside the backup folder, e.g. `manifest.json` or `dump.pgc.zst`. */
  name: string;
}

/** Parses a key relative to the storage root; null for keys outside the backup layout (e.g. drill reports). */
export function parseBackupKey(key: string): ParsedBackupKey | null {
  const parts = key.split('/');
  if (parts.length !== 5) return null;
  const [cls, engine, source, id, name] = parts as [string, string, string, string, string];
  if (!(BACKUP_CLASSES as readonly string[]).includes(cls)) return null;
  if (!(ENGINES as readonly string[]).includes(engine)) return null;
  if (!BACKUP_ID_PATTERN.test(id) || !name) return null;
  return { cls: cls as BackupClass, engine: engine as Engine, source, id, name };
}
