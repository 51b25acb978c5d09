/**
 * The catalog: which backups exist in a storage. A backup is complete when its manifest.json exists and
 * parses; everything else under the layout (a payload without manifest, a manifest that does not parse) is
 * incomplete and is never offered to list, restore, verify, drill or status. Prune uses the incomplete ones to
 * clean up leftovers.
 *
 * Stable API used by every command: scanBackups, listBackups, resolveBackup.
 */
import { BACKUP_CLASSES, MANIFEST_NAME, parseBackupKey, sourcePrefix, type BackupClass, type Engine } from '../contract/layout';
import { parseManifest, type Manifest } from '../contract/manifest';
import { runtimeError, usageError } from '../errors';
import type { Storage, StoredObject } from '../storage/types';

export interface CatalogFilter {
  engine?: Engine;
  source?: string;
  cls?: BackupClass;
}

export interface BackupRef {
  cls: BackupClass;
  engine: Engine;
  source: string;
  id: string;
  /** Folder of the backup, relative to the storage root, with trailing slash. */
  prefix: string;
}

export interface CompleteBackup extends BackupRef {
  manifest: Manifest;
  manifestKey: string;
  payloadKey: string;
}

export interface IncompleteBackup extends BackupRef {
  objects: StoredObject[];
  /** Newest modification time among its objects: young leftovers may belong to a backup still running. */
  lastModified: Date;
  /** Why it is not complete. */
  reason: 'no manifest' | string;
  /**
   * Its manifest exists but cannot be read or does not parse (damaged, or written by a newer runner). Not a
   * backup in progress: a finding that status reports, list warns of and resolve names.
   */
  unreadableManifest: boolean;
}

export interface ScanResult {
  complete: CompleteBackup[];
  incomplete: IncompleteBackup[];
}

/** Listing prefixes to scan for a filter: narrow when engine and source are known, else the whole root. */
function prefixesFor(filter: CatalogFilter): string[] {
  const classes = filter.cls ? [filter.cls] : [...BACKUP_CLASSES];
  if (filter.engine && filter.source) return classes.map((c) => sourcePrefix(c, filter.engine!, filter.source!));
  if (filter.engine) return classes.map((c) => `${c}/${filter.engine}/`);
  return classes.map((c) => `${c}/`);
}

export async function scanBackups(storage: Storage, filter: CatalogFilter = {}): Promise<ScanResult> {
  const groups = new Map<string, { ref: BackupRef; objects: StoredObject[] }>();
  for (const prefix of prefixesFor(filter)) {
    for await (const obj of storage.list(prefix)) {
      const p = parseBackupKey(obj.key);
      if (!p) continue;
      if (filter.source && p.source !== filter.source) continue;
      if (filter.engine && p.engine !== filter.engine) continue;
      const folder = `${p.cls}/${p.engine}/${p.source}/${p.id}/`;
      let g = groups.get(folder);
      if (!g) {
        g = { ref: { cls: p.cls, engine: p.engine, source: p.source, id: p.id, prefix: folder }, objects: [] };
        groups.set(folder, g);
      }
      g.objects.push(obj);
    }
  }

  const complete: CompleteBackup[] = [];
  const incomplete: IncompleteBackup[] = [];
  for (const { ref, objects } of groups.values()) {
    const lastModified = new Date(Math.max(...objects.map((o) => o.modified.getTime())));
    const manifestObj = objects.find((o) => o.key === ref.prefix + MANIFEST_NAME);
    if (!manifestObj) {
      incomplete.push({ ...ref, objects, lastModified, reason: 'no manifest', unreadableManifest: false });
      continue;
    }
    let manifest: Manifest;
    try {
      manifest = parseManifest((await storage.getBytes(manifestObj.key)).toString('utf8'), `${storage.url}/${manifestObj.key}`);
    } catch (e) {
      incomplete.push({ ...ref, objects, lastModified, reason: (e as Error).message, unreadableManifest: true });
      continue;
    }
    const payloadKey = ref.prefix + manifest.payload.object;
    if (!objects.some((o) => o.key === payloadKey)) {
      incomplete.push({ ...ref, objects, lastModified, reason: `payload ${manifest.payload.object} missing`, unreadableManifest: false });
      continue;
    }
    complete.push({ ...ref, manifest, manifestKey: manifestObj.key, payloadKey });
  }
  complete.sort(newestCompleteFirst);
  incomplete.sort(newestFirst);
  return { complete, incomplete };
}

function newestFirst(a: BackupRef, b: BackupRef): number {
  return a.id < b.id ? 1 : a.id > b.id ? -1 : a.prefix < b.prefix ? 1 : -1;
}

/**
 * Ids carry the start time to the second and a random suffix: two backups started in the same second are
 * ordered by the manifests' start times (millisecond precision), so `latest` is the one started last.
 */
function newestCompleteFirst(a: CompleteBackup, b: CompleteBackup): number {
  const secA = a.id.slice(0, 16);
  const secB = b.id.slice(0, 16);
  if (secA !== secB) return secA < secB ? 1 : -1;
  const t = Date.parse(b.manifest.startedAt) - Date.parse(a.manifest.startedAt);
  return t !== 0 ? t : newestFirst(a, b);
}

/** Complete backups only, newest first. */
export async function listBackups(storage: Storage, filter: CatalogFilter = {}): Promise<CompleteBackup[]> {
  return (await scanBackups(storage, filter)).complete;
}

/**
 * `latest` (the newest full backup; the newest of any kind when none is full) or a backup id → a complete
 * backup. Unknown ids (and ids of incomplete backups) are a usage error
 * naming the id; with several sources in one storage, `latest` needs `--source`.
 */
export async function resolveBackup(storage: Storage, ref: string, filter: CatalogFilter = {}): Promise<CompleteBackup> {
  const scan = await scanBackups(storage, filter);
  const all = scan.complete;
  const where = `${storage.url}${filter.source ? ` (source ${filter.source})` : ''}`;
  if (ref === 'latest') {
    if (all.length === 0) {
      throw usageError('no_backups', `no complete backup found in ${where}`, 'Run "lifeboat backup" first, or check --storage and --source');
    }
    const sources = new Set(all.map((b) => `${b.engine}/${b.source}`));
    if (sources.size > 1 && !filter.source) {
      throw usageError(
        'ambiguous_latest',
        `"latest" is ambiguous: ${where} holds backups of ${[...sources].join(', ')}`,
        'Pass --source NAME',
      );
    }
    // What a disaster would restore: the newest full backup, not a schema-only or --table backup taken since
    // (restoring that would "succeed" without the data). The newest of any kind when there is no full one.
    return all.find((b) => b.manifest.kind === 'full') ?? all[0]!;
  }
  const found = all.find((b) => b.id === ref);
  const unreadable = found ? undefined : scan.incomplete.find((b) => b.id === ref && b.unreadableManifest);
  if (unreadable) {
    throw runtimeError('manifest_unreadable', `backup ${ref}: manifest unreadable (${unreadable.reason})`, 'The backup cannot be trusted without it: restore another one (lifeboat list)');
  }
  if (!found) {
    throw usageError(
      'unknown_backup',
      `backup id "${ref}" not found among complete backups in ${where}`,
      'Run "lifeboat list" to see the ids',
    );
  }
  return found;
}
