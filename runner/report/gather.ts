/**
 * What `lifeboat report` says about a store, as data: per source its complete backups over time (stored size,
 * duration), the retention classes held, gaps in the schedule (more than `maxAgeSeconds` without a backup,
 * including up to now), and its drills with RPO and RTO against their targets; and, first, everything unhealthy.
 */
import type { BackupClass, Engine } from '../contract/layout';
import { scanBackups, type CatalogFilter } from '../catalog/catalog';
import type { DrillReport } from '../drill/report';
import type { Storage } from '../storage/types';

export interface ReportBackup {
  id: string;
  cls: BackupClass;
  kind: string;
  snapshotAt: string;
  durationSeconds: number;
  storedBytes: number;
  rawBytes: number;
}

export interface ReportDrill {
  startedAt: string;
  backupId: string;
  passed: boolean;
  rtoSeconds: number | null;
  rtoTargetSeconds: number | null;
  rpoSeconds: number | null;
  rpoTargetSeconds: number | null;
  failedChecks: string[];
}

export interface ReportGap {
  from: string;
  to: string;
  seconds: number;
  /** True for the gap between the newest backup and now. */
  open: boolean;
}

export interface SourceReport {
  engine: Engine;
  source: string;
  backups: ReportBackup[];
  classes: Partial<Record<BackupClass, number>>;
  incomplete: number;
  gaps: ReportGap[];
  drills: ReportDrill[];
  problems: string[];
}

export interface StoreReport {
  storage: string;
  generatedAt: string;
  maxAgeSeconds: number;
  sources: SourceReport[];
  /** Every source's problems, prefixed with the source: what the page shows first. */
  problems: string[];
}

export async function gatherReport(storage: Storage, opts: { now: Date; maxAgeSeconds: number; filter?: CatalogFilter }): Promise<StoreReport> {
  const filter = opts.filter ?? {};
  const scan = await scanBackups(storage, filter);
  const keys = new Set<string>();
  for (const b of [...scan.complete, ...scan.incomplete]) keys.add(`${b.engine}/${b.source}`);
  const drillsBySource = await readDrills(storage);
  for (const k of drillsBySource.keys()) {
    const [engine, source] = k.split('/');
    if ((!filter.engine || filter.engine === engine) && (!filter.source || filter.source === source)) keys.add(k);
  }
  const sources: SourceReport[] = [];
  for (const key of [...keys].sort()) {
    const [engine, source] = key.split('/') as [Engine, string];
    const backups = scan.complete
      .filter((b) => b.engine === engine && b.source === source)
      .map((b) => ({
        id: b.id,
        cls: b.cls,
        kind: b.manifest.kind,
        snapshotAt: b.manifest.snapshotAt,
        durationSeconds: b.manifest.durationSeconds,
        storedBytes: b.manifest.payload.storedBytes,
        rawBytes: b.manifest.payload.rawBytes,
      }))
      .sort((a, b) => a.snapshotAt.localeCompare(b.snapshotAt));
    const classes: Partial<Record<BackupClass, number>> = {};
    for (const b of backups) classes[b.cls] = (classes[b.cls] ?? 0) + 1;
    const gaps = findGaps(backups.map((b) => b.snapshotAt), opts.now, opts.maxAgeSeconds);
    const drills = (drillsBySource.get(key) ?? []).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    const problems: string[] = [];
    if (backups.length === 0) problems.push('no complete backup');
    const open = gaps.find((g) => g.open);
    if (open) problems.push(`no backup for ${hours(open.seconds)} (more than ${hours(opts.maxAgeSeconds)})`);
    const closed = gaps.filter((g) => !g.open).length;
    if (closed) problems.push(`${closed} gap(s) of more than ${hours(opts.maxAgeSeconds)} between backups`);
    const lastDrill = drills[drills.length - 1];
    if (lastDrill && !lastDrill.passed) problems.push(`the last drill (${lastDrill.startedAt}) failed: ${lastDrill.failedChecks.join(', ') || 'see its report'}`);
    const incomplete = scan.incomplete.filter((b) => b.engine === engine && b.source === source).length;
    sources.push({ engine, source, backups, classes, incomplete, gaps, drills, problems });
  }
  return {
    storage: storage.url,
    generatedAt: opts.now.toISOString(),
    maxAgeSeconds: opts.maxAgeSeconds,
    sources,
    problems: sources.flatMap((s) => s.problems.map((p) => `${s.engine}/${s.source}: ${p}`)),
  };
}

/** Stretches longer than `maxAgeSeconds` without a backup: between two backups, and from the newest until now. */
export function findGaps(times: readonly string[], now: Date, maxAgeSeconds: number): ReportGap[] {
  const gaps: ReportGap[] = [];
  const ms = times.map((t) => Date.parse(t)).sort((a, b) => a - b);
  for (let i = 1; i < ms.length; i++) {
    const seconds = (ms[i]! - ms[i - 1]!) / 1000;
    if (seconds > maxAgeSeconds) gaps.push({ from: new Date(ms[i - 1]!).toISOString(), to: new Date(ms[i]!).toISOString(), seconds, open: false });
  }
  const last = ms[ms.length - 1];
  if (last !== undefined && (now.getTime() - last) / 1000 > maxAgeSeconds) {
    gaps.push({ from: new Date(last).toISOString(), to: now.toISOString(), seconds: (now.getTime() - last) / 1000, open: true });
  }
  return gaps;
}

/** Drill reports under drills/<engine>/<source>/; one that does not parse is skipped (a newer runner's). */
async function readDrills(storage: Storage): Promise<Map<string, ReportDrill[]>> {
  const out = new Map<string, ReportDrill[]>();
  for await (const obj of storage.list('drills/')) {
    const m = /^drills\/([^/]+)\/([^/]+)\/[^/]+\.json$/.exec(obj.key);
    if (!m) continue;
    let r: DrillReport;
    try {
      r = JSON.parse((await storage.getBytes(obj.key)).toString('utf8')) as DrillReport;
      if (typeof r.startedAt !== 'string' || typeof r.passed !== 'boolean') continue;
    } catch {
      continue;
    }
    const key = `${m[1]}/${m[2]}`;
    const list = out.get(key) ?? [];
    list.push({
      startedAt: r.startedAt,
      backupId: r.backup?.id ?? '',
      passed: r.passed,
      rtoSeconds: r.rto?.seconds ?? null,
      rtoTargetSeconds: r.rto?.targetSeconds ?? null,
      rpoSeconds: r.rpo?.seconds ?? null,
      rpoTargetSeconds: r.rpo?.targetSeconds ?? null,
      failedChecks: (r.checks ?? []).filter((c) => !c.ok).map((c) => c.name),
    });
    out.set(key, list);
  }
  return out;
}

function hours(seconds: number): string {
  return seconds >= 172800 ? `${Math.round(seconds / 86400)}d` : seconds >= 3600 ? `${Math.round(seconds / 3600)}h` : `${Math.round(seconds / 60)}m`;
}
