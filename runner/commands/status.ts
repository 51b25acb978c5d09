/**
 * `lifeboat status`: a health signal per source (engine + source name). A source is healthy when its newest
 * complete full backup (its newest of any kind when it has no full one) is younger than `maxAgeSeconds` (measured from its snapshot: the data a restore gets back)
 * and not suspiciously small: at least `minBytes` stored, or at least `minRatio` of the median stored size of
 * the source's recent backups of the same kind and format (a dump that shrank to a third usually lost data, not fat).
 *
 * `assessHealth` is pure (scan result + clock in, verdicts out); `status` reads the storage and prints.
 */
import type { RunContext } from '../context';
import type { Storage } from '../storage/types';
import { scanBackups, type CatalogFilter, type CompleteBackup, type ScanResult } from '../catalog/catalog';
import { connectPg, describeConn, type ConnInfo } from '../pg/connection';
import { archiverProblem, archiverStatus } from '../pitr/archiver';

export interface HealthRule {
  maxAgeSeconds: number;
  /** Absolute floor for the newest backup's stored size. Exclusive with minRatio. */
  minBytes?: number;
  /** Fraction of the median stored size of the `recent` backups before the newest. */
  minRatio?: number;
  /** How many earlier backups the median is taken over. */
  recent: number;
}

export const DEFAULT_HEALTH_RULE: HealthRule = { maxAgeSeconds: 26 * 3600, minRatio: 0.5, recent: 7 };

export interface SourceHealth {
  engine: string;
  source: string;
  healthy: boolean;
  problems: string[];
  newest: {
    id: string;
    class: string;
    kind: string;
    snapshotAt: string;
    ageSeconds: number;
    bytes: number;
  } | null;
  /** Median stored size of up to `recent` earlier complete backups of the same kind; null without history. */
  medianBytes: number | null;
  completeBackups: number;
  incompleteBackups: number;
}

export interface HealthReport {
  healthy: boolean;
  checkedAt: string;
  rule: HealthRule;
  sources: SourceHealth[];
  /** Set when there is nothing to judge at all (an empty storage or an unknown --source). */
  problem?: string;
  /** WAL archiving of the server given with --archiving-url (point-in-time recovery), when one was. */
  archiving?: ArchivingHealth;
}

export interface ArchivingHealth {
  server: string;
  healthy: boolean;
  problem: string | null;
  lastArchivedWal: string | null;
  lastArchivedAt: string | null;
  /** Seconds since the last segment was archived: the recovery point a restore reaches right now. */
  lagSeconds: number | null;
  failedCount: number;
  lastFailedWal: string | null;
  lastFailedAt: string | null;
}

/** pg_stat_archiver of one server, judged: unhealthy when archiving is off, failing, or stalled. */
export async function archivingHealth(conn: ConnInfo, maxLagSeconds?: number): Promise<ArchivingHealth> {
  const c = await connectPg(conn, '--archiving-url');
  try {
    const a = await archiverStatus(c);
    const problem = archiverProblem(a, maxLagSeconds);
    return {
      server: describeConn(conn),
      healthy: problem === null,
      problem,
      lastArchivedWal: a.lastArchivedWal,
      lastArchivedAt: a.lastArchivedAt?.toISOString() ?? null,
      lagSeconds: a.lagSeconds === null ? null : Math.round(a.lagSeconds),
      failedCount: a.failedCount,
      lastFailedWal: a.lastFailedWal,
      lastFailedAt: a.lastFailedAt?.toISOString() ?? null,
    };
  } finally {
    await c.end().catch(() => undefined);
  }
}

export function assessHealth(scan: ScanResult, rule: HealthRule, now: Date): HealthReport {
  const keys = new Set<string>();
  for (const b of [...scan.complete, ...scan.incomplete]) keys.add(`${b.engine}/${b.source}`);
  const sources = [...keys].sort().map((key) => assessSource(key, scan, rule, now));
  const report: HealthReport = {
    healthy: sources.length > 0 && sources.every((s) => s.healthy),
    checkedAt: now.toISOString(),
    rule,
    sources,
  };
  if (sources.length === 0) report.problem = 'no backups found';
  return report;
}

function assessSource(key: string, scan: ScanResult, rule: HealthRule, now: Date): SourceHealth {
  const [engine, source] = key.split('/') as [string, string];
  const mine = (b: { engine: string; source: string }): boolean => b.engine === engine && b.source === source;
  // Newest first by snapshot (a manual backup may be newer than the last scheduled one).
  const complete = scan.complete.filter(mine).sort((a, b) => snapshotMs(b) - snapshotMs(a));
  const incompleteBackups = scan.incomplete.filter(mine).length;
  const problems: string[] = [];
  // A manifest that cannot be read is not a backup in progress: whatever it was, it is not restorable as it is.
  for (const b of scan.incomplete.filter((x) => mine(x) && x.unreadableManifest)) {
    problems.push(`backup ${b.id}: manifest unreadable (${b.reason})`);
  }
  // What a restore of the whole source gets back: the newest full backup. A newer schema-only or --table backup
  // (say, a manual one before a deploy) must not hide that the nightly full backups stopped. A source that only
  // ever has other kinds is judged on its newest backup of any kind.
  const newest = complete.find((b) => b.manifest.kind === 'full') ?? complete[0];
  if (!newest) {
    problems.unshift(`no complete backup (${incompleteBackups} incomplete)`);
    return { engine, source, healthy: false, problems, newest: null, medianBytes: null, completeBackups: 0, incompleteBackups };
  }

  const ageSeconds = Math.round((now.getTime() - snapshotMs(newest)) / 1000);
  if (ageSeconds > rule.maxAgeSeconds) {
    problems.push(`newest backup is ${formatDuration(ageSeconds)} old (max ${formatDuration(rule.maxAgeSeconds)})`);
  }
  const bytes = newest.manifest.payload.storedBytes;
  // Sizes are only comparable between backups of the same kind and format (a Redis RDB and a key stream of
  // the same data differ in size; so do a schema-only and a full dump).
  const format = (b: CompleteBackup): string => `${b.manifest.kind}/${b.manifest.payload.object.replace(/\.age$/, '')}`;
  const earlier = complete.slice(complete.indexOf(newest) + 1).filter((b) => format(b) === format(newest)).slice(0, rule.recent);
  const medianBytes = earlier.length ? median(earlier.map((b) => b.manifest.payload.storedBytes)) : null;
  if (rule.minBytes !== undefined && bytes < rule.minBytes) {
    problems.push(`newest backup is ${bytes} bytes (min ${rule.minBytes})`);
  }
  if (rule.minRatio !== undefined && medianBytes !== null && bytes < rule.minRatio * medianBytes) {
    problems.push(
      `newest backup is ${bytes} bytes, ${(bytes / medianBytes).toFixed(2)} of the median ${medianBytes} of the ${earlier.length} before it (min ratio ${rule.minRatio})`,
    );
  }
  return {
    engine,
    source,
    healthy: problems.length === 0,
    problems,
    newest: {
      id: newest.id,
      class: newest.cls,
      kind: newest.manifest.kind,
      snapshotAt: newest.manifest.snapshotAt,
      ageSeconds,
      bytes,
    },
    medianBytes,
    completeBackups: complete.length,
    incompleteBackups,
  };
}

function snapshotMs(b: CompleteBackup): number {
  return Date.parse(b.manifest.snapshotAt);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : Math.round((s[mid - 1]! + s[mid]!) / 2);
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${(s / 86400).toFixed(1)}d`;
}

export interface StatusOptions {
  /** The storage whose backups are judged; absent when only archiving is (--archiving-url without --storage). */
  storage?: Storage;
  rule: HealthRule;
  filter?: CatalogFilter;
  json?: boolean;
  /** A server whose WAL archiving is judged too. */
  archiving?: ConnInfo;
  maxArchiveLagSeconds?: number;
}

export async function status(ctx: RunContext, opts: StatusOptions): Promise<HealthReport> {
  let report: HealthReport;
  if (opts.storage) {
    const scan = await scanBackups(opts.storage, opts.filter ?? {});
    report = assessHealth(scan, opts.rule, ctx.now());
    if (report.problem && opts.filter?.source) report.problem = `no backups of source ${opts.filter.source} found`;
    if (report.problem) report.problem += ` in ${opts.storage.url}`;
  } else {
    // Archiving only (a cluster protected by PITR alone): no logical backups to judge.
    report = { healthy: true, checkedAt: ctx.now().toISOString(), rule: opts.rule, sources: [] };
  }
  if (opts.archiving) {
    report.archiving = await archivingHealth(opts.archiving, opts.maxArchiveLagSeconds);
    report.healthy = report.healthy && report.archiving.healthy;
  }
  ctx.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : renderReport(report));
  return report;
}

function renderReport(r: HealthReport): string {
  const backups = renderBackups(r);
  return backups + (r.archiving ? `${backups ? '\n' : ''}${renderArchiving(r.archiving)}` : '');
}

function renderArchiving(a: ArchivingHealth): string {
  const last = a.lastArchivedWal ? `last archived ${a.lastArchivedWal}, ${formatDuration(a.lagSeconds ?? 0)} ago` : 'nothing archived yet';
  const failures = a.failedCount ? `; ${a.failedCount} failures, last ${a.lastFailedWal} at ${a.lastFailedAt}` : '';
  return `WAL archiving of ${a.server}: ${a.healthy ? 'ok' : `UNHEALTHY (${a.problem})`}; ${last}${failures}\n`;
}

function renderBackups(r: HealthReport): string {
  if (r.problem) return `UNHEALTHY: ${r.problem}\n`;
  if (r.sources.length === 0) return '';
  const header = ['SOURCE', 'STATUS', 'NEWEST', 'CLASS', 'AGE', 'BYTES', 'MEDIAN', 'PROBLEMS'];
  const rows = r.sources.map((s) => [
    `${s.engine}/${s.source}`,
    s.healthy ? 'ok' : 'UNHEALTHY',
    s.newest?.id ?? '-',
    s.newest?.class ?? '-',
    s.newest ? formatDuration(s.newest.ageSeconds) : '-',
    s.newest ? String(s.newest.bytes) : '-',
    s.medianBytes === null ? '-' : String(s.medianBytes),
    s.problems.join('; '),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (row: string[]): string => row.map((v, c) => (c === row.length - 1 ? v : v.padEnd(widths[c]!))).join('  ').trimEnd() + '\n';
  return line(header) + rows.map(line).join('');
}
