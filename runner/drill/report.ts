/**
 * The drill report: what was restored, how long it took (RTO), how old the newest backup is (RPO), every check
 * and whether the drill passed. Stored as JSON under `drills/<engine>/<source>/<timestamp>.json` and printed
 * (JSON off a terminal, a readable table on one).
 */
import type { RowCountComparison } from '../pg/tables';
import { formatComparison } from '../pg/tables';
import type { AmcheckResult } from './amcheck';

export const DRILL_REPORT_FORMAT_VERSION = 1;

export type DrillCheckName = 'restore' | 'row counts' | 'catalog' | 'database' | 'amcheck' | 'rpo' | 'rto' | 'scratch dropped' | 'roles';

export interface DrillCheck {
  name: DrillCheckName;
  ok: boolean;
  detail: string;
}

export interface Objective {
  /** Measured value in seconds; null when it could not be measured (the restore failed, no full backup). */
  seconds: number | null;
  /** The target in seconds; null when none was given (then it cannot fail). */
  targetSeconds: number | null;
  ok: boolean;
}

export interface DrillReport {
  formatVersion: typeof DRILL_REPORT_FORMAT_VERSION;
  engine: 'postgres';
  source: string;
  startedAt: string;
  finishedAt: string;
  backup: { id: string; class: string; kind: string; snapshotAt: string; storedBytes: number };
  /** The newest complete full backup of the source: what RPO is measured from. */
  newestBackup: { id: string; snapshotAt: string } | null;
  scratch: { server: string; database: string; dropped: boolean };
  rpo: Objective;
  rto: Objective;
  /** Row counts in the scratch database against the manifest; null when the restore did not get that far. */
  tables: RowCountComparison[] | null;
  /** Roles the drill created on the scratch server for the restore (and dropped afterwards: the "roles" check). */
  rolesCreated?: string[];
  /** Scratch databases of earlier drills that were killed before they could drop them, dropped by this one. */
  staleScratchDropped?: string[];
  amcheck: AmcheckResult | null;
  checks: DrillCheck[];
  passed: boolean;
  /** Where the report is stored, relative to the storage root. */
  reportKey: string;
}

/** Measured against an optional target: no target never fails; a target with nothing measured does. */
export function objective(seconds: number | null, targetSeconds: number | null): Objective {
  const ok = targetSeconds === null || (seconds !== null && seconds <= targetSeconds);
  return { seconds, targetSeconds, ok };
}

/** 93784 → "1d2h03m"; 75 → "1m15s"; 4.2 → "4.2s". */
export function formatSeconds(s: number | null): string {
  if (s === null) return '-';
  if (s < 60) return `${Math.round(s * 10) / 10}s`;
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  if (d > 0) return `${d}d${h}h${String(m).padStart(2, '0')}m`;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  return `${m}m${String(sec).padStart(2, '0')}s`;
}

export function formatDrillReport(r: DrillReport): string {
  const lines = [
    `drill of ${r.source}: ${r.passed ? 'PASSED' : 'FAILED'}`,
    `backup   ${r.backup.id} (${r.backup.class}, ${r.backup.kind}, snapshot ${r.backup.snapshotAt})`,
    `scratch  ${r.scratch.database} on ${r.scratch.server}${r.scratch.dropped ? ' (dropped)' : ' (NOT DROPPED)'}`,
    `report   ${r.reportKey}`,
    ...(r.staleScratchDropped?.length ? [`stale    dropped ${r.staleScratchDropped.join(', ')} (left by drills that were killed)`] : []),
    '',
  ];
  const rows = r.checks.map((c) => [c.name, c.ok ? 'ok' : 'FAILED', c.detail]);
  const w0 = Math.max(5, ...rows.map((x) => x[0]!.length));
  const w1 = Math.max(6, ...rows.map((x) => x[1]!.length));
  lines.push(`${'check'.padEnd(w0)}  ${'result'.padEnd(w1)}  detail`);
  for (const [a, b, c] of rows) lines.push(`${a!.padEnd(w0)}  ${b!.padEnd(w1)}  ${c}`);
  let out = lines.join('\n') + '\n';
  if (r.tables?.length) out += '\n' + formatComparison(r.tables);
  if (r.amcheck?.failures.length) {
    out += '\n' + r.amcheck.failures.map((f) => `amcheck ${f.index}: ${f.error}`).join('\n') + '\n';
  }
  return out;
}
