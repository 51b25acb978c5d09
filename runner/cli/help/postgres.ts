/** Long help of the PostgreSQL commands: backup, list, restore, verify, drill, status, prune and clone (help-text.ts gathers every group). */
export const POSTGRES_HELP = {
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

Compression: zstd at level 3, or LIFEBOAT_ZSTD_LEVEL (1 to 19). A backup bound by CPU stores more
for less time with a lower level (on text, -1 stored 8% more than -3 in 25% less time); restores
read any level.

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
LIFEBOAT_ZSTD_LEVEL, LIFEBOAT_PIECE_KIB, LIFEBOAT_S3_ENDPOINT, AWS_REGION.

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
} as const;
