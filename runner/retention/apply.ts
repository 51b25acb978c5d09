/**
 * Carrying out a prune plan, and building the plan's input from a storage. Kept apart from the pure planning
 * (runner/retention/plan.ts) so the rule can be tested without storage and the deleting stays small.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MANIFEST_NAME } from '../contract/layout';
import { scanBackups, type CatalogFilter } from '../catalog/catalog';
import { LocalStorage } from '../storage/local';
import { OBJECT_LOCKED, type Storage, type StoredObject } from '../storage/types';
import { isLifeboatError } from '../errors';
import { parseManifest } from '../contract/manifest';
import type { CompleteItem, IncompleteItem, PartialItem, PruneDecision, PruneItem } from './plan';

/** Everything prune decides about: complete and incomplete backups, and (local storage) partial files. */
export async function collectPruneItems(storage: Storage, filter: CatalogFilter = {}): Promise<PruneItem[]> {
  const scan = await scanBackups(storage, filter);
  const items: PruneItem[] = [];
  for (const b of scan.complete) {
    items.push({
      kind: 'complete',
      cls: b.cls,
      engine: b.engine,
      source: b.source,
      id: b.id,
      at: new Date(b.manifest.snapshotAt),
      backupKind: b.manifest.kind,
      ...(b.manifest.lock ? { lockedUntil: new Date(b.manifest.lock.retainUntil) } : {}),
    } satisfies CompleteItem);
  }
  for (const b of scan.incomplete) {
    const unreadableManifest = await manifestUnreadable(storage, b.prefix + MANIFEST_NAME, b.objects);
    items.push({ kind: 'incomplete', cls: b.cls, engine: b.engine, source: b.source, id: b.id, lastModified: b.lastModified, why: b.reason, unreadableManifest } satisfies IncompleteItem);
  }
  // Partial files carry no engine or source, so they are only collected when prune looks at the whole store.
  if (storage instanceof LocalStorage && !filter.engine && !filter.source) {
    for await (const p of storage.partials()) items.push({ kind: 'partial', file: p.file, lastModified: p.modified } satisfies PartialItem);
  }
  return items;
}

/** A manifest object is there but does not parse (the catalog then calls the backup incomplete). */
async function manifestUnreadable(storage: Storage, key: string, objects: readonly StoredObject[]): Promise<boolean> {
  if (!objects.some((o) => o.key === key)) return false;
  try {
    parseManifest((await storage.getBytes(key)).toString('utf8'), `${storage.url}/${key}`);
    return false; // readable: incomplete for another reason (its payload is missing)
  } catch {
    return true;
  }
}

export interface ApplyResult {
  deletedBackups: number;
  deletedPartials: number;
  deletedObjects: number;
  freedBytes: number;
  /** Incomplete backups that got their manifest between planning and deleting: left alone. */
  skipped: string[];
  /**
   * Backups the store refused to delete because their objects are still locked (an incomplete backup's lock is
   * only known by asking): left whole for a later prune.
   */
  locked: string[];
}

export function backupFolder(item: CompleteItem | IncompleteItem): string {
  return `${item.cls}/${item.engine}/${item.source}/${item.id}/`;
}

/**
 * Deletes what the plan says to delete. A complete backup loses its manifest first, so an interrupted prune
 * leaves an incomplete backup (which the next prune removes), never a manifest pointing at a missing payload.
 */
export async function applyPrune(
  storage: Storage,
  decisions: readonly PruneDecision[],
  opts: { signal?: AbortSignal } = {},
): Promise<ApplyResult> {
  const result: ApplyResult = { deletedBackups: 0, deletedPartials: 0, deletedObjects: 0, freedBytes: 0, skipped: [], locked: [] };
  for (const d of decisions) {
    if (d.action !== 'delete') continue;
    opts.signal?.throwIfAborted();
    const item = d.item;
    if (item.kind === 'partial') {
      const st = await fs.stat(item.file).catch(() => null);
      await fs.rm(item.file, { force: true });
      if (storage instanceof LocalStorage) await removeEmptyFolders(path.dirname(item.file), storage.root);
      result.deletedPartials++;
      result.freedBytes += st?.size ?? 0;
      continue;
    }
    const folder = backupFolder(item);
    const objects = [];
    for await (const o of storage.list(folder)) objects.push(o);
    const manifest = objects.find((o) => o.key === folder + MANIFEST_NAME);
    if (item.kind === 'incomplete' && manifest && manifest.modified > item.lastModified) {
      result.skipped.push(folder);
      continue;
    }
    // The payload first when the backup is complete would leave a manifest naming a missing payload; the
    // manifest first leaves an incomplete backup should a later object be locked. All objects of a backup share
    // one lock (runner/retention/object-lock.ts), so a refusal comes on the first delete, before anything went.
    try {
      if (manifest) await storage.delete(manifest.key);
      for (const o of objects) {
        if (o !== manifest) await storage.delete(o.key);
      }
    } catch (e) {
      if (isLifeboatError(e) && e.code === OBJECT_LOCKED) {
        result.locked.push(folder);
        continue;
      }
      throw e;
    }
    result.deletedBackups++;
    result.deletedObjects += objects.length;
    result.freedBytes += objects.reduce((n, o) => n + o.size, 0);
  }
  return result;
}

/** Removes `dir` and its parents while they are empty, stopping below `root`. */
async function removeEmptyFolders(dir: string, root: string): Promise<void> {
  let d = dir;
  while (d.startsWith(root + path.sep)) {
    try {
      await fs.rmdir(d);
    } catch {
      return;
    }
    d = path.dirname(d);
  }
}
