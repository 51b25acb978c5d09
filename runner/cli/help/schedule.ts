/** Long help of running on a schedule and reporting on it: schedule and report (help-text.ts gathers every group). */
export const SCHEDULE_HELP = {
  'schedule': `
Runs the jobs of a schedule file until SIGTERM, for places with no Cloud Scheduler, EventBridge or
Kubernetes CronJob (docker compose, a VM, a PaaS). Each run goes through the same code as the
one-shot command, so it ends with the same event; the daemon adds one event of its own when it stops.

--config (default lifeboat.yaml) is YAML, checked at start: every bad key is named with what was
expected, and the daemon exits 2. --check validates it and prints each job's next run and command.

  storage: /var/lib/lifeboat/backups     # or storageFromEnv / storageFile
  timezone: Europe/Berlin                # for cron expressions; default UTC
  jitter: 2m                             # random delay added to each run but one at start; default 0s
  stopTimeout: 10m                       # how long SIGTERM lets running jobs finish
  stateFile: ./schedule-state.json       # default: .lifeboat-schedule-state.json beside the file
  notify:
    on: [failure, rpo-missed, drill-failed, recovery]
    webhook: [{ urlFromEnv: OPS_WEBHOOK_URL }]
    slack: [{ urlFromEnv: SLACK_WEBHOOK_URL }]
    email: [{ smtpUrlFromEnv: SMTP_URL, from: lifeboat@example.com, to: [ops@example.com] }]
    retry: { attempts: 4, backoff: 1s }  # doubling after each failed attempt
    repeat: 6h                           # a job still failing notifies again after 6h; default 0s: every failure
  sources:
    shop:
      databaseUrlFromEnv: SHOP_DATABASE_URL        # or databaseUrlFile: /run/secrets/shop-url
      jobs:
        backup: { every: 6h }
        drill: { cron: "30 3 * * 0", args: [--rpo, 26h, --rto, 1h], env: { LIFEBOAT_SCRATCH_URL: { fromEnv: SCRATCH_URL } } }
        status: { every: 1h, args: [--max-age, 26h] }
        prune: { cron: "0 5 * * *", args: [--yes] }
    cluster:                              # set up with: lifeboat pitr init --source cluster
      databaseUrlFromEnv: CLUSTER_DATABASE_URL
      jobs:
        pitr-full: { cron: "0 1 * * 0" }           # pitr backup --type full
        pitr-diff: { cron: "0 1 * * 1-6" }         # pitr backup --type diff (pitr-incr: --type incr)
        pitr-heartbeat: { every: 5m }              # pitr heartbeat
        pitr-drill: { cron: "0 4 * * *", args: [--rpo, 5m] }   # pitr drill --ago 1h unless args give a target
    cache:
      engine: redis
      redisUrlFromEnv: CACHE_REDIS_URL
      jobs: { backup: { cron: "15 * * * *", timezone: UTC } }

The pitr-* jobs use the pgBackRest configuration named like the source, so that daemon runs on the
database host (as root or the data directory's owner).

One daemon per state file: a second one on the same file is refused (exit 1); the lease of a daemon
that was killed frees itself 60s after its last refresh.

Secrets are never written in the file: a URL with a password inline is refused. Each comes from a
variable (<key>FromEnv, or { fromEnv: NAME } under env) or a file (<key>File, or { file: PATH }).
args are the command's own flags, passed as given.

When: every (an interval, counted from the last start) or cron (five or six fields, in the job's
timezone or the file's; daylight saving handled by croner). A job never overlaps itself: an
occurrence that comes while the previous run still goes is skipped and logged. Jobs run
independently, so one failing or slow source never delays another. Each start is recorded in the
state file; an occurrence missed while the daemon was down runs once at start, and an interval job
that never ran runs at start.

Notifications go out on a failure, a drill that missed its RPO or failed a check, and once on the
first success after failures; retried with backoff, and a notification that cannot be sent is
logged, never failing the job.

--metrics-port serves Prometheus metrics on /metrics and a liveness check on /healthz, on
--metrics-host (default 0.0.0.0): lifeboat_last_success_timestamp_seconds,
lifeboat_last_duration_seconds, lifeboat_stored_bytes, lifeboat_consecutive_failures (labels source
and kind), lifeboat_drill_passed, lifeboat_drill_rto_seconds, lifeboat_drill_rpo_seconds and their
targets (label source), lifeboat_runs_total and lifeboat_notification_failures_total.

SIGTERM (or SIGINT): no new runs; running jobs get stopTimeout to finish, then they are aborted
(publishing nothing, as any interrupted command); exit 0.

Exit codes: 0 stopped by a signal, or --check found the file valid; 1 the state file or the metrics
port could not be used, another daemon holds the state file, or the lease on it was lost; 2 a bad file
or flag.

Example:
  lifeboat schedule --config /etc/lifeboat/lifeboat.yaml --metrics-port 9464
`,
  'report': `
One HTML page about a store, for a person or an auditor: anything unhealthy at the top (no backup
for longer than --max-age, gaps between backups, a failed last drill), then per source the stored size
and duration of every complete backup over time as charts, the retention classes held, the gaps in
the schedule, the drills with RTO and RPO against their targets, and the backups themselves.

The page is self-contained (inline CSS and SVG, no script, nothing fetched): it opens offline, prints,
and can be attached to an audit. It holds ids, times, sizes and check names, never a credential.

--out writes it to a file (refused if the file exists, unless --force); without --out it goes to
stdout. --engine and --source narrow it to some sources. The run succeeds (exit 0) whenever the page is made, healthy or not; use status to fail on
health.

Exit codes: 0 the page was written; 1 the storage could not be read or --out written; 2 bad usage.

Example:
  lifeboat report --storage s3://acme-backups/prod --out lifeboat-report.html
`,
} as const;
