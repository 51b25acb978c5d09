/**
 * Prometheus metrics for scheduled runs, with prom-client, set from each run's final event: when each source's
 * job last succeeded, how long its last run took, the bytes its last backup stored, how many runs in a row
 * failed, and for drills the result, RTO and RPO against their targets. Labels: `source` and `kind` (backup,
 * drill, status, prune, and the point-in-time kinds pitr-full, pitr-diff, pitr-incr, pitr-heartbeat, pitr-drill).
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { EVENT_FIELDS } from '../contract/events';
import type { FinalEvent } from '../context';

export interface JobLabels {
  source: string;
  kind: string;
}

export class JobMetrics {
  readonly registry = new Registry();
  private readonly lastSuccess: Gauge<'source' | 'kind'>;
  private readonly lastRun: Gauge<'source' | 'kind'>;
  private readonly lastDuration: Gauge<'source' | 'kind'>;
  private readonly storedBytes: Gauge<'source' | 'kind'>;
  private readonly failures: Gauge<'source' | 'kind'>;
  private readonly running: Gauge<'source' | 'kind'>;
  private readonly runs: Counter<'source' | 'kind' | 'outcome'>;
  private readonly drillPassed: Gauge<'source' | 'kind'>;
  private readonly drillRto: Gauge<'source' | 'kind'>;
  private readonly drillRpo: Gauge<'source' | 'kind'>;
  private readonly drillRtoTarget: Gauge<'source' | 'kind'>;
  private readonly drillRpoTarget: Gauge<'source' | 'kind'>;
  private readonly notifyFailures: Counter<'channel'>;

  constructor() {
    const r = [this.registry];
    const jl = ['source', 'kind'] as const;
    this.lastSuccess = new Gauge({ name: 'lifeboat_last_success_timestamp_seconds', help: 'Unix time of the last successful run', labelNames: jl, registers: r });
    this.lastRun = new Gauge({ name: 'lifeboat_last_run_timestamp_seconds', help: 'Unix time the last run ended, whatever its outcome', labelNames: jl, registers: r });
    this.lastDuration = new Gauge({ name: 'lifeboat_last_duration_seconds', help: 'Wall time of the last run', labelNames: jl, registers: r });
    this.storedBytes = new Gauge({ name: 'lifeboat_stored_bytes', help: 'Bytes stored by the last successful backup', labelNames: jl, registers: r });
    this.failures = new Gauge({ name: 'lifeboat_consecutive_failures', help: 'Runs in a row that failed (0 after a success)', labelNames: jl, registers: r });
    this.running = new Gauge({ name: 'lifeboat_job_running', help: '1 while a run of the job is going', labelNames: jl, registers: r });
    this.runs = new Counter({ name: 'lifeboat_runs_total', help: 'Runs since the scheduler started, by outcome', labelNames: ['source', 'kind', 'outcome'], registers: r });
    this.drillPassed = new Gauge({ name: 'lifeboat_drill_passed', help: '1 when the last drill passed, 0 when it failed', labelNames: jl, registers: r });
    this.drillRto = new Gauge({ name: 'lifeboat_drill_rto_seconds', help: 'Restore time measured by the last drill', labelNames: jl, registers: r });
    this.drillRpo = new Gauge({ name: 'lifeboat_drill_rpo_seconds', help: 'Age of the newest backup at the last drill (kind pitr-drill: how far WAL archiving lagged)', labelNames: jl, registers: r });
    this.drillRtoTarget = new Gauge({ name: 'lifeboat_drill_rto_target_seconds', help: 'RTO target of the last drill', labelNames: jl, registers: r });
    this.drillRpoTarget = new Gauge({ name: 'lifeboat_drill_rpo_target_seconds', help: 'RPO target of the last drill', labelNames: jl, registers: r });
    this.notifyFailures = new Counter({ name: 'lifeboat_notification_failures_total', help: 'Notifications given up after every retry', labelNames: ['channel'], registers: r });
    collectDefaultMetrics({ register: this.registry, prefix: 'lifeboat_process_' });
  }

  /** A job known from the config (and its failure count from the state file), so it shows before its first run. */
  declare(l: JobLabels, consecutiveFailures: number): void {
    this.failures.set(l, consecutiveFailures);
    this.running.set(l, 0);
  }

  started(l: JobLabels): void {
    this.running.set(l, 1);
  }

  observe(l: JobLabels, exitCode: number, event: FinalEvent | undefined, consecutiveFailures: number, at: Date): void {
    const f = event?.fields ?? {};
    const now = at.getTime() / 1000;
    this.running.set(l, 0);
    this.lastRun.set(l, now);
    this.failures.set(l, consecutiveFailures);
    this.runs.inc({ ...l, outcome: exitCode === 0 ? 'success' : 'failure' });
    if (typeof f[EVENT_FIELDS.durationSeconds] === 'number') this.lastDuration.set(l, f[EVENT_FIELDS.durationSeconds] as number);
    if (exitCode === 0) {
      this.lastSuccess.set(l, now);
      if (l.kind === 'backup' && typeof f[EVENT_FIELDS.bytes] === 'number') this.storedBytes.set(l, f[EVENT_FIELDS.bytes] as number);
    }
    if (l.kind === 'drill' || l.kind === 'pitr-drill') {
      const s = { source: l.source, kind: l.kind };
      this.drillPassed.set(s, f[EVENT_FIELDS.passed] === true ? 1 : 0);
      const set = (g: Gauge<'source' | 'kind'>, key: string): void => {
        if (typeof f[key] === 'number') g.set(s, f[key] as number);
      };
      set(this.drillRto, EVENT_FIELDS.rtoSeconds);
      set(this.drillRpo, EVENT_FIELDS.rpoSeconds);
      set(this.drillRtoTarget, EVENT_FIELDS.rtoTargetSeconds);
      set(this.drillRpoTarget, EVENT_FIELDS.rpoTargetSeconds);
    }
  }

  notificationGivenUp(channel: string): void {
    this.notifyFailures.inc({ channel });
  }
}
