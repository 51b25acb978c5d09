/**
 * The PITR drill report: the same kind of JSON as `drill`'s (RPO, RTO, checks, passed), stored under
 * `drills/pitr/<source>/<timestamp>.json`. RTO is split into its parts: the restore (pgBackRest copying the
 * backup), recovery (replaying WAL to the target and promoting) and the first query.
 */
import { formatSeconds, type Objective } from '../drill/report';

export const PITR_DRILL_REPORT_FORMAT_VERSION = 1;

export type PitrDrillCheckName =
  | 'restore'
  | 'recovery target'
  | 'heartbeat before'
  | 'heartbeat after'
  | 'archiving'
  | 'rpo'
  | 'rto'
  | 'cleaned up'
  // Managed databases (RDS, Cloud SQL): the cloud's clone, the first connection, the tables' row counts.
  | 'clone'
  | 'connect'
  | 'row counts';

/** What a managed drill (RDS, Cloud SQL) adds: the clone it made and the tables it counted. */
export interface ManagedDrillDetails {
  provider: 'rds' | 'cloudsql';
  /** The source as given: the RDS identifier or PROJECT:INSTANCE. */
  instance: string;
  /** The throwaway instance (deleted at the end: the "cleaned up" check). */
  clone: string;
  endpoint: string | null;
  window: { earliest: string; latest: string };
  /** Rows per table in the clone, beside the source's count now. */
  tables: Array<{ table: string; cloneRows: number | null; sourceRows: number | null; ok: boolean; detail: string }>;
}

export interface PitrDrillCheck {
  name: PitrDrillCheckName;
  ok: boolean;
  detail: string;
}

export interface PitrDrillReport {
  formatVersion: typeof PITR_DRILL_REPORT_FORMAT_VERSION;
  engine: 'postgres';
  kind: 'pitr';
  source: string;
  startedAt: string;
  finishedAt: string;
  target: string;
  backup: { label: string; type: string; stoppedAt: string } | null;
  recovery: { reachedTarget: boolean; stoppedAt: string | null; lastTransactionAt: string | null } | null;
  heartbeats: { before: { id: string; at: string } | null; after: { id: string; at: string } | null };
  /** RPO: the archive lag (seconds since the last WAL segment reached the repository). */
  rpo: Objective;
  /** RTO: restore + recovery + first query (managed: the clone until ready, as restore, + first query). */
  rto: Objective & { restoreSeconds: number | null; recoverySeconds: number | null; firstQuerySeconds: number | null };
  /** Leftovers of earlier, killed drills that this one removed (folders; managed: instances). */
  staleRemoved: string[];
  /** Only for RDS and Cloud SQL drills. */
  managed?: ManagedDrillDetails;
  checks: PitrDrillCheck[];
  passed: boolean;
  reportKey: string;
}

export function formatPitrDrillReport(r: PitrDrillReport): string {
  const lines = [
    `pitr drill of ${r.source} to ${r.target}: ${r.passed ? 'PASSED' : 'FAILED'}`,
    ...(r.managed
      ? [
          `clone    ${r.managed.clone} of ${r.managed.instance} (${r.managed.provider})`,
          `rto      ${formatSeconds(r.rto.seconds)} (clone ${formatSeconds(r.rto.restoreSeconds)}, first query ${formatSeconds(r.rto.firstQuerySeconds)})`,
          `rpo      ${formatSeconds(r.rpo.seconds)} (behind the latest restorable time)`,
        ]
      : [
          `backup   ${r.backup ? `${r.backup.label} (${r.backup.type}, ended ${r.backup.stoppedAt})` : '-'}`,
          `rto      ${formatSeconds(r.rto.seconds)} (restore ${formatSeconds(r.rto.restoreSeconds)}, recovery ${formatSeconds(r.rto.recoverySeconds)}, first query ${formatSeconds(r.rto.firstQuerySeconds)})`,
          `rpo      ${formatSeconds(r.rpo.seconds)} (archive lag)`,
        ]),
    `report   ${r.reportKey}`,
    '',
  ];
  const rows = r.checks.map((c) => [c.name, c.ok ? 'ok' : 'FAILED', c.detail]);
  const w0 = Math.max(5, ...rows.map((x) => x[0]!.length));
  lines.push(`${'check'.padEnd(w0)}  result  detail`);
  for (const [a, b, c] of rows) lines.push(`${a!.padEnd(w0)}  ${b!.padEnd(6)}  ${c}`);
  return lines.join('\n') + '\n';
}
