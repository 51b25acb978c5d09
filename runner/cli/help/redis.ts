/** Long help of the Redis commands: redis backup, restore and verify (help-text.ts gathers every group). */
export const REDIS_HELP = {
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
LIFEBOAT_AGE_RECIPIENTS, LIFEBOAT_ZSTD_LEVEL (the payload's zstd level, 1 to 19, default 3).

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
} as const;
