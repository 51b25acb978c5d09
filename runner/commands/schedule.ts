/**
 * `lifeboat schedule`: the long-running scheduler for places with no Cloud Scheduler, EventBridge or CronJob.
 * It reads the schedule file, runs each job through `runJob` (the CLI's own path, so every run ends with the
 * same event a one-shot run would), keeps metrics and sends notifications from the runs' final events, and on
 * the context's abort (SIGTERM) lets running jobs finish within the file's stopTimeout before it returns.
 */
import { Writable } from 'node:stream';
import type { FinalEvent, RunContext } from '../context';
import { runtimeError } from '../errors';
import { JobMetrics } from '../metrics/job-metrics';
import { serveMetrics, type MetricsServer } from '../metrics/server';
import { Notifier } from '../notify/notifier';
import { describeNotification, notifyReason } from '../notify/reasons';
import { loadScheduleConfig, type JobSpec } from '../schedule/config';
import { Scheduler, type JobOutcome } from '../schedule/scheduler';
import { ScheduleState } from '../schedule/state';
import { lockStateFile, type StateLock } from '../schedule/state-lock';
import { nextOccurrence } from '../schedule/timing';

export interface ScheduleOptions {
  configFile: string;
  /** Serve /metrics and /healthz on this port (0: any free port). */
  metricsPort?: number;
  metricsHost: string;
  /** Validate the file and describe the jobs, then return without running anything. */
  check?: boolean;
  /** How long the state file's lease holds after its daemon died (default 60s). */
  leaseMs?: number;
  /** Told once the scheduler runs (tests read the metrics port from it). */
  onStarted?: (info: { metricsPort?: number; jobs: string[] }) => void;
}

/** One scheduled run: argv and a context of its own (its variables, its abort signal, its final event). */
export type RunJob = (argv: string[], ctx: RunContext) => Promise<number>;

export interface ScheduleResult {
  jobs: JobSpec[];
  /** Jobs still running when the stop timeout ran out, aborted. */
  aborted: string[];
  runs: number;
  /** --check: when each job would run next. */
  plan?: { job: string; next: string; argv: string[] }[];
}

export async function runSchedule(opts: ScheduleOptions, deps: { ctx: RunContext; runJob: RunJob }): Promise<ScheduleResult> {
  const { ctx } = deps;
  const config = loadScheduleConfig(opts.configFile, ctx.env);
  if (opts.check) {
    const now = ctx.now();
    return { jobs: config.jobs, aborted: [], runs: 0, plan: config.jobs.map((j) => ({ job: j.id, next: nextOccurrence(j.timing, now).toISOString(), argv: j.argv })) };
  }
  // A second daemon on the same state file is refused before it reads the state or runs anything.
  let lost: Error | undefined;
  const lostLease = new AbortController();
  const lock: StateLock = await lockStateFile(config.stateFile, {
    staleMs: opts.leaseMs,
    onLost: (why) => {
      lost = why;
      lostLease.abort();
    },
  });
  try {
    return await scheduleLocked(opts, deps, config, lostLease.signal, () => lost);
  } finally {
    await lock.release();
  }
}

async function scheduleLocked(
  opts: ScheduleOptions,
  deps: { ctx: RunContext; runJob: RunJob },
  config: ReturnType<typeof loadScheduleConfig>,
  lostLease: AbortSignal,
  lostWhy: () => Error | undefined,
): Promise<ScheduleResult> {
  const { ctx } = deps;
  let state: ScheduleState;
  try {
    state = ScheduleState.load(config.stateFile);
  } catch (e) {
    throw runtimeError('schedule_state_unreadable', `the schedule state file: ${(e as Error).message}`, 'move it away to start afresh (missed runs are then not detected once)');
  }
  const metrics = new JobMetrics();
  for (const j of config.jobs) metrics.declare(labels(j), state.get(j.id).consecutiveFailures);
  const notifier = new Notifier({
    channels: config.notify.channels,
    on: config.notify.on,
    attempts: config.notify.attempts,
    backoffMs: config.notify.backoffMs,
    logger: ctx.logger,
    onGiveUp: (ch) => metrics.notificationGivenUp(ch.type),
  });
  let server: MetricsServer | undefined;
  if (opts.metricsPort !== undefined) {
    try {
      server = await serveMetrics(metrics.registry, opts.metricsPort, opts.metricsHost);
    } catch (e) {
      throw runtimeError('metrics_port_unavailable', `--metrics-port ${opts.metricsPort}: cannot listen (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }

  let runs = 0;
  // Notifications go out beside the schedule, not inside a job's run: a slow webhook never holds a job.
  const sending = new Set<Promise<void>>();
  const scheduler = new Scheduler(config.jobs, {
    state,
    logger: ctx.logger,
    now: ctx.now,
    runJob: async (job, signal) => {
      let event: FinalEvent | undefined;
      const env = { ...ctx.env, ...job.env };
      // The daemon's own --notify variable would make every job notify twice.
      delete env.LIFEBOAT_NOTIFY;
      const jobCtx: RunContext = {
        env,
        stdout: new Writable({ write: (_c, _e, cb) => cb() }),
        stderr: ctx.stderr,
        logger: ctx.logger.child({ job: job.id }),
        now: ctx.now,
        signal,
        onFinalEvent: (e) => {
          event = e;
        },
      };
      const exitCode = await deps.runJob(job.argv, jobCtx);
      return { exitCode, event };
    },
    onStart: (job) => metrics.started(labels(job)),
    onOutcome: (job: JobSpec, outcome: JobOutcome, failuresBefore: number) => {
      runs++;
      const failures = outcome.exitCode === 0 ? 0 : failuresBefore + 1;
      metrics.observe(labels(job), outcome.exitCode, outcome.event, failures, ctx.now());
      const event: FinalEvent = outcome.event ?? { event: 'schedule.failed', severity: 'error', message: `${job.id} ended with exit code ${outcome.exitCode} and no event`, fields: { source: job.source, exitCode: outcome.exitCode } };
      const reason = notifyReason(event, failuresBefore);
      if (reason && reason !== 'recovery' && failuresBefore > 0 && config.notify.repeatMs > 0) {
        // Still failing: told again only once notify.repeat has passed since the last notification.
        const last = state.get(job.id).lastNotifiedAt;
        if (last && ctx.now().getTime() - Date.parse(last) < config.notify.repeatMs) return;
      }
      if (reason && notifier.enabled) {
        state.update(job.id, { lastNotifiedAt: ctx.now().toISOString() });
        const p = notifier.notify(describeNotification(reason, event, job.id)).finally(() => sending.delete(p));
        sending.add(p);
      }
    },
  });
  scheduler.start();
  ctx.logger.info({ jobs: scheduler.plan(), metricsPort: server?.port }, `scheduling ${config.jobs.length} job(s) from ${opts.configFile}`);
  opts.onStarted?.({ metricsPort: server?.port, jobs: config.jobs.map((j) => j.id) });

  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted || lostLease.aborted) resolve();
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    lostLease.addEventListener('abort', () => resolve(), { once: true });
  });
  ctx.logger.info({}, 'stopping: no new runs; running jobs may finish');
  const { aborted } = await scheduler.stop(config.stopTimeoutMs);
  await Promise.all([...sending]);
  await server?.close();
  const why = lostWhy();
  if (why) {
    // Another daemon may run the jobs now: stopping is the only way to keep them from running twice.
    throw runtimeError('schedule_lock_lost', `the lease on ${config.stateFile}.lock was lost while running (${why.message}); stopped so that no job runs twice`, 'check that no other scheduler uses this state file, then start again');
  }
  return { jobs: config.jobs, aborted, runs };
}

function labels(j: JobSpec): { source: string; kind: string } {
  return { source: j.source, kind: j.kind };
}
