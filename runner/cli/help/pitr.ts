/** Long help of point-in-time recovery: the pitr commands (help-text.ts gathers every group). */
export const PITR_HELP = {
  'pitr-init': `
Point-in-time recovery for a self-hosted cluster, on pgBackRest (apt-get install -y pgbackrest). Run it on
the database host, as root or as the data directory's owner: pgBackRest runs as that user.

It checks that --pgdata is the data directory of the server at --database-url and that the server has a
Unix socket (pgBackRest connects through one only), writes pgBackRest's configuration under --config-dir
(default /etc/lifeboat/pitr, one folder per --source, which defaults to the database name), puts the
repository inside the storage (<root>/pitr/<source>/ in a folder, an s3:// or a gs:// bucket) and creates
the stanza. Whatever it created is removed again if a step fails.

An s3:// repository needs the bucket's region (--s3-region or AWS_REGION). pgBackRest speaks only HTTPS to
S3: --s3-endpoint, for an S3-compatible store, must be https:// (path-style addressing; a private CA from
AWS_CA_BUNDLE). AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, when set, are written to secret/s3.conf (mode
0600) for archive_command to use; without them pgBackRest uses the instance's or task's role.

A gs:// repository uses the service-account key file GOOGLE_APPLICATION_CREDENTIALS names, copied to
secret/gcs-key.json (mode 0600) for archive_command to use; without it pgBackRest uses the instance's service
account (metadata server). gcloud user credentials are refused. An emulator's STORAGE_EMULATOR_HOST must be
https:// (a private CA from NODE_EXTRA_CA_CERTS); pgBackRest sends it the fixed token "owner".

--encrypt encrypts the repository (aes-256-cbc). The passphrase is random (or LIFEBOAT_PITR_CIPHER_PASS) and
lives only in secret/cipher.conf (mode 0600, owned by the cluster's user); it is never printed or logged.
Keep a copy in your secret store: without it the repository cannot be read.

--apply sets archive_mode = on, archive_command (pgbackrest archive-push) and archive_timeout = 60s with
ALTER SYSTEM and reloads; if archive_mode was already on, archiving is then checked end to end (a WAL segment
must reach the repository), otherwise PostgreSQL must be restarted. Without --apply the exact settings are
printed for postgresql.conf.

Environment: DATABASE_URL, LIFEBOAT_STORAGE, LIFEBOAT_SOURCE, LIFEBOAT_PITR_CONFIG_DIR,
LIFEBOAT_PITR_CIPHER_PASS, LIFEBOAT_S3_ENDPOINT, AWS_REGION, AWS_CA_BUNDLE, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, GOOGLE_APPLICATION_CREDENTIALS, STORAGE_EMULATOR_HOST, NODE_EXTRA_CA_CERTS.

Exit codes: 0 set up; 1 pgBackRest or the server failed; 2 bad usage (a --pgdata that is not the server's).

Example:
  lifeboat pitr init --pgdata /var/lib/postgresql/16/main --storage /backups --encrypt --apply
  lifeboat pitr init --pgdata /var/lib/postgresql/16/main --storage gs://acme-backups/prod --encrypt --apply
`,
  'pitr-backup': `
A pgBackRest backup of a source set up by "pitr init": --type full, diff (changes since the last full) or
incr (changes since the last backup, the default; pgBackRest takes a full one when none exists). Prints the
backup's label. pgBackRest keeps two full backups (repo1-retention-full=2) and the WAL they need.

--config-dir and --source find the configuration (--source is needed only when several are set up). The
database password, if the Unix socket asks for one, comes from --database-url (or DATABASE_URL).

Environment: LIFEBOAT_PITR_CONFIG_DIR, LIFEBOAT_SOURCE, DATABASE_URL.

Exit codes: 0 backed up; 1 pgBackRest failed; 2 bad usage.

Example:
  lifeboat pitr backup --type full
`,
  'pitr-restore': `
Restores a source's cluster as it was at --to-time (with its zone: 2026-12-07T14:31:00Z) into --pgdata, a
new or empty folder; a folder that holds anything is refused without --force (then pgBackRest rewrites what
differs, --delta; no server may run in it). A time before the end of the oldest backup is refused, naming the
recoverable window. Then recovery runs to the target on a private socket (no TCP; the server dies with the
command) and the cluster is shut down cleanly, so the command can print what it recovered to (the last
transaction replayed and the first one left out) and how to start it; it starts at once. Archiving is off
in the restored cluster, so it never pushes WAL into the source's repository; run "pitr init" for it if it
becomes the primary.

--config-dir and --source find the configuration. On a host without the configuration's secret part, the
passphrase of an encrypted repository comes from LIFEBOAT_PITR_CIPHER_PASS.

Managed databases: --rds IDENTIFIER or --cloudsql PROJECT:INSTANCE instead of --pgdata (exactly one of the
three), with --into NAME, the new instance. The cloud's own point-in-time recovery makes it; the source is
only read. RDS: RestoreDBInstanceToPointInTime, taking over the source's DB subnet group, VPC security
groups, parameter and option groups, instance class, Multi-AZ, storage type, size, IOPS and throughput, port,
public access, IAM authentication and deletion protection, and tagging the copy made-by=lifeboat,
lifeboat-restore-of and lifeboat-restore-to. Cloud SQL: instances.clone with cloneContext.pointInTime (the
clone takes the source's settings), then the same labels. A --to-time outside the recoverable window is
refused before anything is asked, naming the window (RDS: the automated backups' restore window, or the
backup retention since the instance was created, up to LatestRestorableTime; Cloud SQL: the later of the end
of the oldest successful backup and now minus transactionLogRetentionDays, up to getLatestRecoveryTime). An
existing --into is refused. Then it waits until the new instance is ready (RDS "available", Cloud SQL
RUNNABLE after its operation is DONE), printing each new status on a terminal and logging it as JSON off
one, for at most --timeout (default 2h); it prints the endpoint and the moment restored to. A copy the cloud
reports as failed is deleted; one still being made when --timeout runs out is left to finish, and named.
Credentials: the AWS SDK's usual chain (AWS_REGION, AWS_PROFILE, roles; AWS_ENDPOINT_URL_RDS for another
endpoint) or Google's Application Default Credentials.

Environment: LIFEBOAT_PITR_CONFIG_DIR, LIFEBOAT_SOURCE, LIFEBOAT_PITR_CIPHER_PASS; managed: AWS_REGION and
the AWS chain, GOOGLE_APPLICATION_CREDENTIALS (or the metadata server).

Exit codes: 0 restored; 1 pgBackRest, recovery or the cloud failed (a folder it created is removed); 2 bad
usage (a target outside the window, an existing --into, not exactly one of --pgdata, --rds, --cloudsql).

Examples:
  lifeboat pitr restore --to-time 2026-12-07T14:31:00Z --pgdata /var/lib/postgresql/restore
  lifeboat pitr restore --rds shop-prod --to-time 2026-12-07T14:31:00Z --into shop-prod-1431
  lifeboat pitr restore --cloudsql acme-prod:shop --to-time 2026-12-07T14:31:00Z --into shop-1431
`,
  'pitr-drill': `
Proves the point-in-time window: restores the source to --to-time (or --ago 1h) into a temp folder
(LIFEBOAT_TMPDIR), starts a throwaway server on it (a Unix socket in that folder only, archiving off), and
checks that recovery stopped at the target, that the last heartbeat written at least a second before the
target is there and the first written after it is not (see "pitr heartbeat"). Reports RTO (restore,
recovery, first query) and RPO (the archive lag: how long ago the last WAL segment was archived, read from
pg_stat_archiver on the source at --database-url), and fails with --rpo or --rto when they are exceeded. The
report is stored under drills/pitr/<source>/ in the storage holding the repository and printed (JSON off a
terminal).

Everything the drill makes is removed when it ends, and by a watchdog process when the drill is killed (even
with SIGKILL); a drill also removes what a killed one left behind (say, after a power loss) and says so.

--config-dir and --source find the configuration.

Managed databases: --rds IDENTIFIER or --cloudsql PROJECT:INSTANCE drills the cloud's own point-in-time
recovery. A target outside the recoverable window is refused first (exit 2). The drill clones the source to
the target into a throwaway instance named lifeboat-drill-<source>-<start time> and tagged (RDS) or labelled
(Cloud SQL) lifeboat-drill=<source> and made-by=lifeboat, waits for it (at most --timeout, default 2h),
connects to it with the credentials and database of --database-url (DATABASE_URL, the source's; only the
host and port become the clone's), and checks the heartbeats before and after the target and the rows of
each --check-table (repeatable, table or schema.table): the table must be in the clone, and not empty there
when it has rows in the source. Then it deletes the clone (no final snapshot) and reports RTO (the clone
until ready, plus the first query) and RPO (how far the latest restorable time was behind; Cloud SQL:
getLatestRecoveryTime). The report goes under drills/pitr/<source>/ in --storage (LIFEBOAT_STORAGE) when
given, and is printed. The source name is --source, else the RDS identifier or the Cloud SQL instance name.
A drill killed before it deleted its clone leaves an instance whose name says when it started: the next
drill of the same source deletes such clones once they are older than --timeout (so a running drill is
never hit), says so and lists them in staleRemoved. The clone never keeps the source's deletion
protection. Credentials: the AWS SDK's usual chain (AWS_REGION, roles) or Google's Application Default
Credentials.

Environment: DATABASE_URL, LIFEBOAT_PITR_CONFIG_DIR, LIFEBOAT_SOURCE, LIFEBOAT_PITR_CIPHER_PASS,
LIFEBOAT_TMPDIR; managed: LIFEBOAT_STORAGE, AWS_REGION and the AWS chain, GOOGLE_APPLICATION_CREDENTIALS.

Exit codes: 0 every check passed; 1 a check failed; 2 bad usage.

Examples:
  lifeboat pitr drill --ago 1h --rpo 5m --rto 30m
  lifeboat pitr drill --rds shop-prod --ago 1h --check-table orders --storage s3://acme-backups/prod --rto 1h
  lifeboat pitr drill --cloudsql acme-prod:shop --ago 1h --check-table public.orders --storage gs://acme-backups
`,
  'pitr-heartbeat': `
Writes one row (an id and the time) to lifeboat.heartbeat in the database at --database-url, creating the
schema and table on first use. Scheduled every few minutes, it lets "pitr drill" check a point in time
exactly. Optional: without heartbeats a drill checks only where recovery stopped.

Environment: DATABASE_URL.

Exit codes: 0 written; 1 the server failed; 2 bad usage.

Example:
  lifeboat pitr heartbeat --database-url postgres://lifeboat@db:5432/shop
`,
} as const;
