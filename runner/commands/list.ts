/**
 * `lifeboat list`: complete backups only (a manifest that parses and its payload present), newest first.
 *
 * - listRows(storage, filter, now) → ListRow[]: what the table and --json show.
 * - formatList(rows): the human table (id, source, class, kind, stored size, created, age).
 */
import { scanBackups, type CatalogFilter, type CompleteBackup } from '../catalog/catalog';
import { humanBytes } from '../pipeline/progress';
import type { Storage } from '../storage/types';

export interface ListRow {
  id: string;
  engine: string;
  source: string;
  class: string;
  kind: string;
  storedBytes: number;
  createdAt: string;
  ageSeconds: number;
  manifestKey: string;
}

export function toListRow(b: CompleteBackup, now: Date): ListRow {
  return {
    id: b.id,
    engine: b.engine,
    source: b.source,
    class: b.cls,
    kind: b.manifest.kind,
    storedBytes: b.manifest.payload.storedBytes,
    createdAt: b.manifest.finishedAt,
    ageSeconds: Math.max(0, Math.round((now.getTime() - new Date(b.manifest.finishedAt).getTime()) / 1000)),
    manifestKey: b.manifestKey,
  };
}

/**
 * The complete backups as rows, and the backups whose manifest exists but cannot be read (they are not listed as
 * backups, but never silently: the caller warns of each).
 */
export async function listRows(
  storage: Storage,
  filter: CatalogFilter,
  now: Date,
): Promise<{ rows: ListRow[]; backups: CompleteBackup[]; unreadable: { id: string; source: string; reason: string }[] }> {
  const scan = await scanBackups(storage, filter);
  const unreadable = scan.incomplete.filter((b) => b.unreadableManifest).map((b) => ({ id: b.id, source: b.source, reason: b.reason }));
  return { rows: scan.complete.map((b) => toListRow(b, now)), backups: scan.complete, unreadable };
}

export function humanAge(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(seconds / 86400)}d${String(Math.floor((seconds % 86400) / 3600)).padStart(2, '0')}h`;
}

export function formatList(rows: readonly ListRow[]): string {
  const header = ['id', 'source', 'class', 'kind', 'size', 'created', 'age'];
  const body = rows.map((r) => [
    r.id,
    r.engine === 'postgres' ? r.source : `${r.engine}:${r.source}`,
    r.class,
    r.kind,
    humanBytes(r.storedBytes),
    r.createdAt.replace(/\.\d{3}Z$/, 'Z'),
    humanAge(r.ageSeconds),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...body.map(line)].join('\n') + '\n';
}
