/**
 * The long help of the program and of each command, shown by `lifeboat [command] --help` after the options: what
 * each flag does beyond its one line, what the command guarantees, the environment it reads, its exit codes and
 * examples. The README links here rather than repeating it; test/runner/help.test.ts checks that every flag of a
 * command appears in its help.
 */
export const PROGRAM_HELP = `
Flags that name a place or carry a secret also come from the environment, which is how the scheduled
jobs set them: --storage from LIFEBOAT_STORAGE, --database-url from DATABASE_URL, --source from
LIFEBOAT_SOURCE, --target-url from LIFEBOAT_TARGET_URL, --scratch-url from LIFEBOAT_SCRATCH_URL,
--redis-url from LIFEBOAT_REDIS_URL, --s3-endpoint from LIFEBOAT_S3_ENDPOINT, --s3-region from
AWS_REGION. A flag wins over its variable. Secrets (URLs with passwords, age identities) belong in
variables filled by a secret store, never in flags, which show in process listings.

Passwords reach pg_dump and pg_restore through PG* environment variables, never the command line,
and never appear in output.

Storage: --storage takes a folder, file://..., gs://bucket/prefix or s3://bucket/prefix; every key
lives under the prefix. Credentials come only from the SDKs' default chains, never from flags or
URLs: Google Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, the metadata server on
Cloud Run/GCE, GKE Workload Identity) and the AWS chain (environment, AWS_PROFILE, IRSA, ECS task
role, instance profile). S3-compatible stores (MinIO, R2, Ceph) with --s3-endpoint: path-style
addressing, checksums only where an operation requires them.

--json prints the command's result as JSON on stdout (the structured log stays on stderr).

--notify URL (repeatable, or LIFEBOAT_NOTIFY, space-separated) tells someone when a run fails, a
drill fails or misses its RPO: https://... gets the final event as JSON (a generic webhook),
https://hooks.slack.com/... (or slack+https://...) a Slack message, and
smtp://[USER:PASSWORD@]HOST[:PORT]?from=ADDRESS&to=ADDRESS[,ADDRESS] an email (smtps:// for TLS from
the start; add &tlsVerify=false for a relay with a self-signed certificate). Each is retried with
backoff; one that cannot be sent is logged and never fails the run.
Webhook and SMTP URLs can hold secrets: put them in LIFEBOAT_NOTIFY, not the flag.

Exit codes: 0 success, 1 failure (a retry may help), 2 bad usage or config (a retry will not help).
`;

/** Keyed by the command file name: `redis-backup` is `lifeboat redis backup`. */
export const COMMAND_HELP = {
  'backup': `
Dumps the database with pg_dump (custom format), compresses it with zstd in frames cut where each
table's data starts, hashes the stored bytes (sha256) and counts every table's rows exactly, in the
dump's own snapshot. The manifest is written last: a backup without one does not exist for list,
restore or prune.

Prints the backup id; with --json, the manifest.

--database-url (or DATABASE_URL) is the database to dump; --source names it in the storage layout
(default: the database name; letters, digits, '.', '_' and '-').

--kind full|schema|data chooses what pg_dump writes. --table T (repeatable) limits the backup to
those tables (a partitioned table with its partitions); a full backup limited so is recorded as kind
"tables". A selected table with a foreign
key to a table left out is refused (exit 2, naming the key), since its backup could not be restored;
restores of such a backup create the schemas of its tables the target lacks. --class forces a class; without
it the class is chosen from the calendar: the longest of yearly, monthly, weekly, daily whose
current period has no complete backup of the same kind yet. Use --class manual for backups taken by
hand (e.g. before a deploy).

--jobs N (default 1) with more than 1: the large tables' rows are dumped by N COPY sessions of the
runner's own, in the same snapshot, beside pg_dump (which leaves them out), each table in ranges of
its pages (PostgreSQL 14 and later; before 14, a table is one piece). The pieces go into the same
archive as TABLE DATA entries of their own, after pg_dump's data: one payload, one manifest, exact row
counts, and an archive pg_restore reads as any other (by hand too, from a pipe or with -j). Tables
of at least LIFEBOAT_PIECE_KIB (default: a fourth of one job's share of the database, 16 to 256
MiB) are pieced, in pieces of about that size. The pieces wait, compressed, in LIFEBOAT_TMPDIR until
pg_dump's part has passed. Whole-database and --table backups; --kind data and schema are one pg_dump.

Encryption: --encrypt-to <age recipient> (repeatable), or LIFEBOAT_AGE_RECIPIENTS (comma- or
whitespace-separated). The backup needs only the public keys. The manifest records sha256:
fingerprints of the recipients, never the keys, and the sha256 of the stored (encrypted) bytes. Make
a key with \`age-keygen -o key.txt\` (or any age implementation); keep the identity file for
restores only.

Roles: each backup also stores globals.json (globals.json.age when encrypted) before the manifest,
read in the dump's snapshot: the roles the database references (owners, grantees, default-privilege
grantees, policy roles, roles with settings in it, the roles they are members of and their members),
their attributes, settings and memberships, and the database's own owner, encoding, locale, ACL and
settings. restore --roles and --create use it. Password hashes only with --role-passwords; they are
secrets, encrypted with the payload when it is encrypted. Managed servers (Cloud SQL, RDS) let no
role read them: there --role-passwords is refused (exit 2), and roles are recorded without them.

Uploads stream with bounded memory. S3: multipart, 6 MiB parts, 2 in flight, over a fixed pool of 3
part buffers (18 MiB, whatever the dump's size); the largest object is 10,000 x 6 MiB = 58.6 GiB.
LIFEBOAT_S3_PART_SIZE_MIB (5 to 4096) raises it; LIFEBOAT_S3_QUEUE_SIZE (1 to 16) puts more parts in
flight on fast links; each costs memory. GCS: a resumable session in 8 MiB chunks
(LIFEBOAT_GCS_CHUNK_SIZE_MIB, 1 to 1024), finalized only after the last byte. A failed or
interrupted upload is aborted (S3) or never finalized (GCS), and no manifest is written. Give the
bucket an AbortIncompleteMultipartUpload lifecycle rule for uploads cut short by a killed process.

Retries: the SDKs' exponential backoff on throttling, 5xx and network errors (S3: 6 attempts per
request; GCS: 6 attempts per request, up to 32 s apart, and 20 retries over a whole upload of up to
a day). Access denied, a missing bucket or object fail at once, naming the bucket and the object.

Replicas: with --prefer-replica URL the dump is taken from that streaming replica when its replay
lag is within --max-lag (default 60s). The lag is 0 when its WAL receiver streams and everything
received is replayed, else now() minus its last replayed commit. A replica that is over the bound,
unreachable, not a standby, or a standby of another cluster is skipped with a warning and the
primary is dumped. The source is still named after the primary's database. The manifest's sourceInfo
says role replica|primary and replicaLagSeconds; its snapshotAt is moved back by the lag. Give the
replica hot_standby_feedback = on (or a large max_standby_streaming_delay) so recovery conflicts do
not cancel long dumps. Also from LIFEBOAT_PREFER_REPLICA and LIFEBOAT_MAX_LAG.

Object lock: --object-lock governance|compliance (or LIFEBOAT_OBJECT_LOCK) uploads the payload,
globals.json and the manifest locked until the run's start plus the class's retention days, from
--retention-days (or LIFEBOAT_RETENTION_DAYS, e.g. daily=7,weekly=35,monthly=400,yearly=2557,manual=90;
a class left out keeps that default). S3: Object Lock retain-until (the bucket must have Object Lock;
the identity needs s3:PutObjectRetention). GCS: object retention, governance as Unlocked and
compliance as Locked (the bucket needs object retention enabled; the identity
storage.objects.setRetention). The manifest records the lock. A folder cannot lock: refused (exit 2),
as is a bad mode or list of days.

Environment: LIFEBOAT_STORAGE, DATABASE_URL, LIFEBOAT_SOURCE, LIFEBOAT_AGE_RECIPIENTS,
LIFEBOAT_PREFER_REPLICA, LIFEBOAT_MAX_LAG, LIFEBOAT_OBJECT_LOCK, LIFEBOAT_RETENTION_DAYS,
LIFEBOAT_S3_ENDPOINT, AWS_REGION.

Exit codes: 0 the backup is stored and its manifest written; 1 the dump, compression, row counts or
upload failed (nothing was published); 2 bad usage or config.

Examples:
  DATABASE_URL=postgres://backup@db.internal:5432/shop lifeboat backup --storage ./backups --class manual
  lifeboat backup --storage gs://acme-backups/prod --encrypt-to age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
  lifeboat backup --storage s3://acme-backups/prod --s3-region eu-west-3
  DATABASE_URL=postgres://backup@db.internal:5432/shop lifeboat backup --storage ./backups \\
    --prefer-replica postgres://backup@db-replica.internal:5432/shop --max-lag 60s
`,
  'list': `
Lists complete backups only (those whose manifest exists and parses), newest first: id, source,
class, kind, stored size, created, age. --json prints them with their manifests, for machines.

Environment: LIFEBOAT_STORAGE, LIFEBOAT_SOURCE, LIFEBOAT_S3_ENDPOINT, AWS_REGION.

Exit codes: 0 listed (also when there is none); 1 the storage could not be read; 2 bad usage.

Examples:
  lifeboat list --storage ./backups --source shop
  lifeboat list --storage s3://backups/prod --s3-endpoint https://minio.internal:9000
`,
  'restore': `
Restores a backup into a database, then compares every restored table's row count with the manifest
(exit 1 on a mismatch).

"latest" is the newest full backup of the source, not a schema-only or --table backup taken since;
an id restores exactly that backup. --source says whose "latest" when the storage holds several
sources.

A whole restore into a new database (--create) streams, with no temp file; --jobs N (1 to 64: each
is a session on the target) runs N parallel streams. Backups are stored in zstd frames cut where each table's data starts, indexed in the
manifest, so each stream fetches by range only the frames of its share of the tables (an age payload
is decrypted from the chunk holding their first byte), checks each frame's sha256, decompresses and
loads them: the payload is read once in all. (Backups made before frames: each stream reads all of
it.) A checksum mismatch fails the restore and drops the database.

Every other restore (into an existing database, --clean, --table, --schema-only, --data-only) checks
the sha256 of the whole payload first, into a temporary archive in LIFEBOAT_TMPDIR (default: the OS
temp dir), as large as the uncompressed dump, removed afterwards.

--data-only loads into tables that exist and are empty (restored with --schema-only, say): parents
before children by the target's foreign keys, in one transaction, so a failure leaves the tables
empty and a retry works; foreign keys in a cycle need --disable-triggers, which it then uses (a
superuser's right).

A target that already has tables is refused unless --clean --yes (with --table too). A restore that
fails drops the database it created, or empties the empty target again; a restore whose row counts
differ exits 1 but keeps the restored database for inspection.

--table T (repeatable) restores the table with its keys, indexes, triggers, defaults and sequences,
plus the schemas, types and functions the target lacks; a foreign key to a table left out is skipped
with a warning. A partitioned table named by its parent (--table payment) comes with its partitions.
With --clean, the views built on a replaced table and the foreign keys into and out of it (from and
to tables the target has) are dropped and made again with it, and a replaced partition is attached
to its parent again. It runs in one transaction. A foreign key of another table into it that the
target's rows break (they reference rows the backup lacks) is left out: a warning names it, and
--json and the final event list it in foreignKeysSkipped. Anything else that fails (an object of
the target's that the backup lacks depends on the table) leaves the target exactly as it was.

Roles: a backup records the roles its objects name (globals.json). A target server that lacks any of
them is refused before anything is created or downloaded (exit 2), naming them. --roles creates the
missing ones first, with their attributes, settings, memberships and (when the backup recorded them
with --role-passwords) password hashes, in one transaction, and reports them; a role that exists is
never altered. A restore that fails drops the roles it created. --no-owner --no-privileges restore
without owners and grants instead (policies TO a role still need it).

--create recreates the database as it was, as pg_restore --create would: from template0 with the
source's encoding and locale (LATIN1 stays LATIN1), then, once the data is in, its owner, connection
limit, comment, ACL (a revoked CONNECT stays revoked), ALTER DATABASE ... SET and ALTER ROLE ... IN
DATABASE ... SET. A target server without the source's locale stops the restore before anything is
created (exit 2); --allow-locale-change creates it with the server's default locale instead (C when
that does not fit the encoding), and says so. Backups made before roles were recorded restore as
before: a plain CREATE DATABASE, no role check.

Encrypted backups need the age identity: --identity-file (or LIFEBOAT_AGE_IDENTITY_FILE), or the
identity itself in LIFEBOAT_AGE_IDENTITY, as the cloud jobs inject it from their secret store. A
wrong, missing or unreadable identity, or a truncated or altered payload, fails with exit 1 before
anything is restored.

Downloads hold no queue: each chunk goes to zstd and the next is read once the pipe has taken it, so
memory does not grow with the backup. Downloads that break halfway, end short or receive nothing for
LIFEBOAT_STORAGE_IDLE_TIMEOUT_S seconds (default 60) resume from the same byte, pinned to the same
object version.

Environment: LIFEBOAT_STORAGE, LIFEBOAT_TARGET_URL, LIFEBOAT_SOURCE, LIFEBOAT_AGE_IDENTITY_FILE,
LIFEBOAT_AGE_IDENTITY, LIFEBOAT_TMPDIR, LIFEBOAT_STORAGE_IDLE_TIMEOUT_S, LIFEBOAT_S3_ENDPOINT,
AWS_REGION.

Exit codes: 0 restored and every row count matches; 1 a checksum, pg_restore or row-count failure; 2
bad usage (e.g. a target with tables without --clean --yes, --clean without --yes, a target that
lacks the backup's roles without --roles, a locale the target lacks without --allow-locale-change).

Examples:
  lifeboat restore latest --storage ./backups --target-url postgres://admin@db.internal:5432/shop_copy \\
    --create --jobs 4
  lifeboat restore latest --storage ./backups --target-url postgres://admin@dr-db.internal:5432/shop \\
    --create --roles
  lifeboat restore latest --storage gs://acme-backups/prod --identity-file /secrets/age.key \\
    --target-url postgres://admin@db.internal:5432/shop_copy --create
  lifeboat restore 20261121T020000Z-3f9a --storage ./backups --target-url postgres://admin@db:5432/shop \\
    --table orders --clean --yes
`,
  'verify': `
Proves a backup: the sha256 of the stored bytes, the frame index the streamed restores rely on, and
a full read with pg_restore (every entry, data included). With --restore-into, also a scratch
restore with row counts compared with the manifest: a database that does not exist is created and
dropped; an empty one is left empty again.

"latest" is the newest full backup of the source (--source when the storage holds several). With
--restore-into, --jobs N runs pg_restore with N jobs. A scratch server that lacks a role the backup's
objects name (owners, grantees, policy roles) is refused before the download (exit 2), naming them, as
restore does; --roles creates the missing ones for the scratch restore and drops them afterwards, and
--no-owner --no-privileges leave out ownership and grants instead. The archive is spooled to
LIFEBOAT_TMPDIR (default: the OS temp dir), as large as the uncompressed dump, and removed
afterwards. Encrypted backups need --identity-file (or LIFEBOAT_AGE_IDENTITY_FILE, or the identity
itself in LIFEBOAT_AGE_IDENTITY).

Environment: LIFEBOAT_STORAGE, LIFEBOAT_SOURCE, LIFEBOAT_AGE_IDENTITY_FILE, LIFEBOAT_AGE_IDENTITY,
LIFEBOAT_TMPDIR, LIFEBOAT_S3_ENDPOINT, AWS_REGION.

Exit codes: 0 the backup is intact (and restores, with --restore-into); 1 a checksum, frame index,
pg_restore or row-count failure; 2 bad usage.

Example:
  lifeboat verify latest --storage ./backups \\
    --restore-into postgres://admin@db.internal:5432/lifeboat_scratch
`,
  'drill': `
A restore drill. Creates a fresh scratch database on the --scratch-url server: the URL's database is
the name prefix ("postgres" means lifeboat_drill_<utc time>_<hex>); an existing database is never
touched. Restores the backup into it (--backup ID, or by default the newest full backup: what a
disaster would restore) exactly as restore --create --roles would: with the source's encoding and
locale, creating the roles the scratch server lacks, with owners, grants and policies, then the
database's owner, ACL and settings. Then it checks: every table's row count against the manifest;
the catalog (objects by kind, owners, ACLs, policies, triggers, constraints, default privileges)
against the fingerprint taken in the dump's snapshot at backup time; the database's properties
against the source's; optionally every B-tree index with amcheck (--amcheck). It always drops the
scratch database, and then the roles it created ("roles" check). While it runs it holds an advisory
lock named after its scratch database; a drill killed outright (SIGKILL, a deadline) leaves its
database behind, and the next drill with the same prefix drops it (unlocked, nobody connected) and
says so. Roles such a drill created stay. A drill that cannot create the
roles or restore owners and grants fails and says why. Backups made before roles were recorded are
drilled as before, with --no-owner and --no-privileges and no catalog check (the report says so).
--jobs N runs the restore with N parallel streams (pg_restore jobs when the backup is restored from
a file).

RTO = download + checksum + restore + counts. RPO = now - the snapshot of the newest complete full
backup of the source (even when --backup names an older one). Without a --rpo or --rto target, the
figure is measured and reported but cannot fail.

The JSON report goes to drills/postgres/<source>/<time>.json in storage, and to stdout (a table on a
terminal; --json forces JSON).

Encrypted backups need --identity-file (or LIFEBOAT_AGE_IDENTITY_FILE, or LIFEBOAT_AGE_IDENTITY).

Environment: LIFEBOAT_STORAGE, LIFEBOAT_SOURCE, LIFEBOAT_SCRATCH_URL, LIFEBOAT_BACKUP, LIFEBOAT_RPO,
LIFEBOAT_RTO, LIFEBOAT_AGE_IDENTITY_FILE, LIFEBOAT_AGE_IDENTITY, LIFEBOAT_TMPDIR.

Exit codes: 0 every check and target passed; 1 any check or target failed (the report says which); 2
bad usage.

Example:
  lifeboat drill --storage ./backups --source shop \\
    --scratch-url postgres://drill@db.internal:5432/postgres --rpo 24h --rto 30m --amcheck
`,
  'status': `
Health per source. A source is unhealthy when its newest full backup is older than --max-age
(measured from its snapshot; a newer schema-only or --table backup does not count, unless the source
has no full backup at all), or smaller than an absolute floor (--min-size, e.g. 500MB) or than a
fraction (--min-ratio, default 0.5) of the median stored size of the recent backups of the same kind
and format (over --recent, default 7). A backup whose manifest exists but cannot be read makes its
source unhealthy too. --engine (postgres or redis) and --source narrow the report to some sources.

With --archiving-url (a PostgreSQL server set up with "pitr init"), status also reports its WAL archiving
from pg_stat_archiver: the last archived segment and its age (the recovery point a restore reaches now) and
failures. Archiving is unhealthy when archive_mode is off, when the last attempt failed, or when nothing was
archived for longer than --max-archive-lag (default three archive_timeouts, at least 5m). Without --storage
(nor LIFEBOAT_STORAGE), only archiving is judged: a cluster protected by PITR alone.

Exit codes: 0 every source is healthy; 1 any source is unhealthy, or none exists; 2 bad usage.

Environment: LIFEBOAT_STORAGE, LIFEBOAT_SOURCE, LIFEBOAT_S3_ENDPOINT, AWS_REGION, LIFEBOAT_ARCHIVING_URL.

Example:
  lifeboat status --storage ./backups --max-age 26h --json
`,
  'prune': `
Retention where the store has no lifecycle rules (a local folder); buckets expire backups with one
lifecycle rule per class prefix instead, and their backup identity cannot delete.

A dry run unless --yes: prints every backup with keep or delete and the reason. Per source and
class, it keeps the backups of the newest N periods that have one: --keep-daily 7 keeps every daily
backup of the newest 7 days with a daily backup, however many runs a day; --keep-weekly counts ISO
weeks, --keep-monthly months, --keep-yearly years; manual backups are kept --keep-manual-days days.

The newest complete backup of a source is never deleted (nor its newest full one). Incomplete
backups and .partial files younger than a day are left alone (they may be running); older ones are
removed. A backup whose manifest cannot be read (a newer runner's format) is never deleted.

--source and --engine narrow it; --json prints the plan for machines. How these counts map onto the
buckets' age-based lifecycle rules is explained in runner/retention/plan.ts.

Environment: LIFEBOAT_STORAGE, LIFEBOAT_S3_ENDPOINT, AWS_REGION (--source is not read from
LIFEBOAT_SOURCE here: a scheduled prune covers every source unless told otherwise).

Exit codes: 0 planned (and with --yes, applied); 1 a deletion or the storage failed; 2 bad usage.

Examples:
  lifeboat prune --storage ./backups --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --keep-yearly 7 \\
    --keep-manual-days 90
  lifeboat prune --storage ./backups --yes
`,
  'clone': `
Copies a database into another one without storage: pg_dump | pg_restore in the source's exported
snapshot, with exact row counts taken in that same snapshot and compared with the copy (exit 1 on a
mismatch).

With --create the target must not exist; otherwise it must be empty (or --clean --yes). --jobs 1
streams with nothing on disk (pg_restore cannot run parallel jobs on a stream); --jobs N > 1 dumps
in directory format with N workers to LIFEBOAT_TMPDIR and restores with N jobs. --no-owner and
--no-privileges leave out ownership and grants, for a target without the source's roles. A failed
clone drops the database it created, or removes what it added to the empty one; a clone whose row
counts differ is kept for inspection and reported with exit 1.

Environment: LIFEBOAT_FROM, LIFEBOAT_TO, LIFEBOAT_TMPDIR.

Exit codes: 0 copied and every row count matches; 1 the dump, the restore or the counts failed; 2
bad usage.

Example:
  lifeboat clone --from postgres://admin@db.internal:5432/shop \\
    --to postgres://admin@db.internal:5432/shop_staging --create --no-owner
`,
  'redis-backup': `
An RDB snapshot over the replication protocol (redis-cli --rdb), checked by loading it into a
scratch redis-server, which also gives the exact key counts per database for the manifest. Then
zstd, optional age encryption, sha256 and upload; the manifest last.

--method dump (SCAN + DUMP + PTTL into a framed key stream, payload keys.lbrk.zst) is for managed
Redis that refuses SYNC; it is not point-in-time. The key stream format is documented in
runner/redis/format.ts.

--class forces a class (manual for backups taken by hand); without it the class is chosen from the
calendar, as for PostgreSQL backups: the longest of yearly, monthly, weekly, daily whose current
period has no complete backup yet.

--redis-url may also come from LIFEBOAT_REDIS_URL or REDIS_URL; rediss:// uses TLS. The password
reaches redis-cli through REDISCLI_AUTH, never the command line. Redis Cluster is not supported yet.

Encryption: --encrypt-to (repeatable) or LIFEBOAT_AGE_RECIPIENTS, as for backup.
Object lock: --object-lock and --retention-days (LIFEBOAT_OBJECT_LOCK, LIFEBOAT_RETENTION_DAYS), as
for backup: the payload and the manifest are locked for the class's retention.

Environment: LIFEBOAT_STORAGE, LIFEBOAT_REDIS_URL, REDIS_URL, LIFEBOAT_SOURCE,
LIFEBOAT_AGE_RECIPIENTS.

Exit codes: 0 stored and its manifest written; 1 the snapshot, its check or the upload failed; 2 bad
usage.

Example:
  lifeboat redis backup --redis-url redis://:PASSWORD@cache.internal:6379 --source cache --storage ./backups
`,
  'redis-restore': `
Restores with RESTORE ... REPLACE ABSTTL: a key expires at the instant the original would have; keys
already expired are skipped. An RDB snapshot is loaded into a scratch redis-server and copied from
there. The payload is fetched whole and its sha256 checked before a key is written.

A non-empty target is refused unless --flush --yes (FLUSHALL, only after the payload's sha256
matched).

--redis-url may also come from LIFEBOAT_REDIS_URL or REDIS_URL; rediss:// uses TLS. The keys written
(plus those skipped as expired) are compared with the manifest's count per database. Encrypted
backups need --identity-file (or LIFEBOAT_AGE_IDENTITY_FILE, or LIFEBOAT_AGE_IDENTITY).

Environment: LIFEBOAT_STORAGE, LIFEBOAT_REDIS_URL, REDIS_URL, LIFEBOAT_SOURCE,
LIFEBOAT_AGE_IDENTITY_FILE, LIFEBOAT_AGE_IDENTITY, LIFEBOAT_TMPDIR.

Exit codes: 0 restored, and the key counts match; 1 a checksum or restore failure, or key counts
that differ from the manifest; 2 bad usage (e.g. a non-empty target without --flush --yes).

Example:
  lifeboat redis restore latest --source cache --storage ./backups \\
    --redis-url redis://:PASSWORD@cache-new.internal:6379
`,
  'redis-verify': `
Loads the backup into a scratch redis-server and compares the key count of every logical database
with the manifest (exit 1 on a mismatch). Keys with a TTL that expired since the backup are allowed
for and reported.

Encrypted backups need --identity-file (or LIFEBOAT_AGE_IDENTITY_FILE, or LIFEBOAT_AGE_IDENTITY).

Environment: LIFEBOAT_STORAGE, LIFEBOAT_SOURCE, LIFEBOAT_AGE_IDENTITY_FILE, LIFEBOAT_AGE_IDENTITY,
LIFEBOAT_TMPDIR.

Exit codes: 0 the counts match; 1 a checksum failure or a count mismatch; 2 bad usage.

Example:
  lifeboat redis verify latest --source cache --storage ./backups
`,
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

export type HelpTopic = keyof typeof COMMAND_HELP;
