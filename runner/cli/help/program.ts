/** The program's long help (`lifeboat --help`): what every command shares. */
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
