/**
 * The scheduler's loop: one timer per job, so a slow or failing source never delays another; a job whose
 * previous run is still going skips that occurrence (it never overlaps itself); every start is recorded in the
 * state file before the run begins. On stop, timers are cleared, running jobs get `graceMs` to finish, and
 * then their signal is aborted (a command aborted that way cleans up and publishes nothing).
 */
import type { FinalEvent } from '../context';
import type { Logger } from '../log';
import type { JobSpec } from './config';
import type { ScheduleState } from './state';
import { firstRun, jitter, nextOccurrence } from './timing';

export interface JobOutcome {
  exitCode: number;
  /** The run's final event, as its command logged it. */
  event?: FinalEvent;
}

export interface SchedulerDeps {
  /** Runs one job to its end through the CLI's own code path. */
  runJob: (job: JobSpec, signal: AbortSignal) => Promise<JobOutcome>;
  /** Told each finished run with the job's failure count before it (notifications, metrics). */
  onOutcome?: (job: JobSpec, outcome: JobOutcome, failuresBefore: number) => Promise<void> | void;
  /** Told when a job starts (metrics). */
  onStart?: (job: JobSpec) => void;
  state: ScheduleState;
  logger: Logger;
  now: () => Date;
  random?: () => number;
}

/** setTimeout's largest delay; longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Slot {
  job: JobSpec;
  timer?: NodeJS.Timeout;
  /** The occurrence the timer is for (without jitter): the base of an interval job's next one. */
  due?: Date;
  running?: { controller: AbortController; done: Promise<void> };
}

export class Scheduler {
  private readonly slots: Slot[];
  private stopped = false;

  constructor(
    jobs: readonly JobSpec[],
    private readonly deps: SchedulerDeps,
  ) {
    this.slots = jobs.map((job) => ({ job }));
  }

  start(): void {
    const now = this.deps.now();
    for (const slot of this.slots) {
      const last = this.deps.state.get(slot.job.id).lastStartedAt;
      const first = firstRun(slot.job.timing, last ? new Date(last) : undefined, now);
      if (first.missed) {
        this.deps.logger.warn({ job: slot.job.id, lastStartedAt: last }, `${slot.job.id}: a run was missed while the scheduler was down; running it now`);
      }
      // A run at start (missed, or an interval job's first) goes at once: it is already late.
      this.arm(slot, first.at, first.at.getTime() > now.getTime());
    }
  }

  /** When each job runs next (for the start-up line and tests). */
  plan(): { job: string; due?: string }[] {
    return this.slots.map((s) => ({ job: s.job.id, due: s.due?.toISOString() }));
  }

  /** Stops scheduling; waits up to `graceMs` for running jobs, then aborts them and waits for them to clean up. */
  async stop(graceMs: number): Promise<{ aborted: string[] }> {
    this.stopped = true;
    for (const s of this.slots) clearTimeout(s.timer);
    const running = this.slots.filter((s) => s.running);
    if (running.length === 0) return { aborted: [] };
    this.deps.logger.info({ jobs: running.map((s) => s.job.id) }, `waiting up to ${Math.round(graceMs / 1000)}s for ${running.length} running job(s)`);
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.all(running.map((s) => s.running!.done));
    const finished = await Promise.race([all.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs)))]);
    clearTimeout(timer);
    if (finished) return { aborted: [] };
    const aborted = this.slots.filter((s) => s.running).map((s) => s.job.id);
    for (const s of this.slots) s.running?.controller.abort(new Error('the scheduler is stopping'));
    await all;
    return { aborted };
  }

  private arm(slot: Slot, due: Date, withJitter = true): void {
    if (this.stopped) return;
    slot.due = due;
    const at = due.getTime() + (withJitter ? jitter(slot.job.jitterMs, this.deps.random) : 0);
    const wait = (): void => {
      const left = at - this.deps.now().getTime();
      slot.timer = setTimeout(() => (left > MAX_TIMER_MS ? wait() : this.fire(slot)), Math.max(0, Math.min(left, MAX_TIMER_MS)));
    };
    wait();
  }

  private fire(slot: Slot): void {
    if (this.stopped) return;
    const due = slot.due ?? this.deps.now();
    // The next occurrence is armed now, not after the run: a run longer than the interval meets its next
    // occurrence while still running, and that occurrence is skipped rather than started alongside.
    // Intervals keep their cadence from the due time; after a long pause (a suspended machine) they restart from now.
    // Cron counts from the later of the due time and now: a timer that fires a millisecond early must not find
    // the same occurrence again.
    const now = this.deps.now();
    let next = nextOccurrence(slot.job.timing, 'every' in slot.job.timing ? due : new Date(Math.max(due.getTime(), now.getTime())));
    if (next.getTime() <= now.getTime()) next = nextOccurrence(slot.job.timing, now);
    this.arm(slot, next);
    if (slot.running) {
      this.deps.logger.warn({ job: slot.job.id }, `${slot.job.id}: skipped an occurrence, the previous run is still going`);
      return;
    }
    const controller = new AbortController();
    slot.running = { controller, done: this.run(slot, controller.signal).finally(() => (slot.running = undefined)) };
  }

  private async run(slot: Slot, signal: AbortSignal): Promise<void> {
    const { job } = slot;
    const startedAt = this.deps.now();
    const before = this.deps.state.get(job.id).consecutiveFailures;
    this.deps.state.update(job.id, { lastStartedAt: startedAt.toISOString() });
    this.deps.onStart?.(job);
    let outcome: JobOutcome;
    try {
      outcome = await this.deps.runJob(job, signal);
    } catch (e) {
      // The CLI path ends every run with an exit code; reaching here is a bug, but it must not stop the loop.
      this.deps.logger.error({ job: job.id }, `${job.id}: the run threw: ${(e as Error)?.message ?? String(e)}`);
      outcome = { exitCode: 1 };
    }
    this.deps.state.update(job.id, {
      lastFinishedAt: this.deps.now().toISOString(),
      lastExitCode: outcome.exitCode,
      consecutiveFailures: outcome.exitCode === 0 ? 0 : before + 1,
    });
    try {
      await this.deps.onOutcome?.(job, outcome, before);
    } catch (e) {
      this.deps.logger.warn({ job: job.id }, `${job.id}: after the run: ${(e as Error)?.message ?? String(e)}`);
    }
  }
}
