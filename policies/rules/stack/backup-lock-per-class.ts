import { LABEL, T, isBackupBucket, isDrBucket } from '../../lib/conventions';
import { containerDefinitions } from '../../lib/ecs';
import { podContainers } from '../../lib/k8s';
import { ofType, stackPolicy, type StackView, type Subject } from '../../lib/rule';
import { companionsOf } from '../../lib/s3';
import { UNKNOWN, at, isUnknown, list, toNumber } from '../../lib/values';

/**
 * The runner's retention days for the classes LIFEBOAT_RETENTION_DAYS leaves out (runner/contract/layout.ts
 * DEFAULT_RETENTION_DAYS; the pack imports no runner code, and test/policies checks that the two agree).
 */
export const RUNNER_DEFAULT_DAYS: Readonly<Record<string, number>> = { daily: 7, weekly: 35, monthly: 400, yearly: 2557, manual: 90 };
const MODES = ['governance', 'compliance'];
const DAY_S = 86_400;

interface BackupJob {
  job: Subject;
  env: Map<string, unknown>;
}

/** The runner command of a job (Cloud Run args, ECS command, CronJob args) and its plain env; UNKNOWN when not known yet. */
function commandAndEnv(r: Subject): { args: unknown[]; env: Map<string, unknown> } | typeof UNKNOWN {
  let container: unknown;
  let envKey: string;
  let argsKey: string;
  if (r.type === T.cloudRunJob) {
    const cs = list(at(r.props, 'template', 'template', 'containers'));
    if (cs === UNKNOWN) return UNKNOWN;
    [container, envKey, argsKey] = [cs[0], 'envs', 'args'];
  } else if (r.type === T.ecsTaskDefinition) {
    const cs = containerDefinitions(r);
    if (cs === UNKNOWN) return UNKNOWN;
    [container, envKey, argsKey] = [cs[0], 'environment', 'command'];
  } else {
    const cs = podContainers(r);
    if (cs === UNKNOWN) return UNKNOWN;
    [container, envKey, argsKey] = [cs[0], 'env', 'args'];
  }
  const envs = list(at(container, envKey));
  const args = list(at(container, argsKey));
  if (envs === UNKNOWN || args === UNKNOWN) return UNKNOWN;
  const env = new Map<string, unknown>();
  for (const e of envs) {
    const name = at(e, 'name');
    if (typeof name === 'string') env.set(name, at(e, 'value'));
  }
  return { args, env };
}

/** Jobs that run `lifeboat backup` or `lifeboat redis backup` (by their command, or their `lifeboat-task` label). */
function backupJobs(stack: StackView): BackupJob[] {
  const out: BackupJob[] = [];
  for (const job of ofType(stack, T.cloudRunJob, T.ecsTaskDefinition, T.cronJob)) {
    const read = commandAndEnv(job);
    if (read === UNKNOWN) continue;
    const [a0, a1] = read.args;
    const task = job.labels[LABEL.task];
    const isBackup = a0 === 'backup' || (a0 === 'redis' && a1 === 'backup') || task === 'backup' || task === 'redis-backup';
    if (isBackup) out.push({ job, env: read.env });
  }
  return out;
}

/** The bucket-level lock in days: a GCS retention policy, or an S3 Object Lock default retention; 0 for none. */
function bucketFloorDays(stack: StackView, bucket: Subject): number | typeof UNKNOWN {
  if (bucket.type === T.gcsBucket) {
    const period = at(bucket.props, 'retentionPolicy', 'retentionPeriod');
    if (isUnknown(period)) return UNKNOWN;
    const seconds = toNumber(period);
    return seconds === undefined ? 0 : seconds / DAY_S;
  }
  let floor = 0;
  for (const lock of companionsOf(stack, bucket, T.s3ObjectLock)) {
    const retention = at(lock.props, 'rule', 'defaultRetention');
    if (isUnknown(retention)) return UNKNOWN;
    const days = toNumber(at(retention, 'days'));
    const years = toNumber(at(retention, 'years'));
    floor = Math.max(floor, days ?? (years !== undefined ? years * 365 : 0));
  }
  return floor;
}

/** LIFEBOAT_RETENTION_DAYS as the runner reads it (classes left out keep their default); a string on error. */
function classDays(raw: unknown): Record<string, number> | string {
  const days = { ...RUNNER_DEFAULT_DAYS };
  if (raw === undefined || (typeof raw === 'string' && raw.trim() === '')) return days;
  if (typeof raw !== 'string') return `LIFEBOAT_RETENTION_DAYS is ${JSON.stringify(raw)}, not CLASS=DAYS pairs`;
  for (const part of raw.split(',')) {
    const m = /^\s*([a-z]+)\s*=\s*(\d+)\s*$/.exec(part);
    if (!m || !(m[1]! in RUNNER_DEFAULT_DAYS) || Number(m[2]) < 1) {
      return `LIFEBOAT_RETENTION_DAYS ${JSON.stringify(raw)} is not comma-separated CLASS=DAYS pairs (the runner refuses it, exit 2)`;
    }
    days[m[1]!] = Number(m[2]);
  }
  return days;
}

export default stackPolicy({
  name: 'stack-backup-lock-per-class',
  platform: 'stack',
  description:
    "Every backup job of a stack with a backup bucket locks each backup for its own class's retention (LIFEBOAT_OBJECT_LOCK), unless the bucket's own lock already covers the longest class; and a GCS bucket it locks in has object retention enabled.",
  why:
    "A bucket-level lock (GCS retention policy, S3 Object Lock default retention) is set to the shortest class's retention, so without a per-object lock a monthly or yearly backup can be deleted, by a stolen administrator credential or a bad lifecycle edit, as soon as the shortest class's days have passed.",
  fix:
    "Set LIFEBOAT_OBJECT_LOCK (governance or compliance) and LIFEBOAT_RETENTION_DAYS on the backup jobs, as the Lifeboat stacks do for non-ephemeral stacks, and create GCS backup buckets with enableObjectRetention: true (S3 buckets need objectLockEnabled, see s3-object-lock).",
  enforcementLevel: 'mandatory',
  productionOnly: true,
  check: (stack, _cfg, report) => {
    const buckets = ofType(stack, T.gcsBucket, T.s3Bucket).filter((b) => isBackupBucket(b.urn, b.labels) && !isDrBucket(b.urn, b.labels));
    // Without a backup bucket in the stack (a Kubernetes stack given a bucket URL) there is no bucket lock to compare.
    if (buckets.length === 0) return;
    const floors = buckets.map((b) => bucketFloorDays(stack, b));
    if (floors.some((f) => f === UNKNOWN)) return;
    const floor = Math.min(...(floors as number[]));
    let locking = false;
    for (const { job, env } of backupJobs(stack)) {
      const mode = env.get('LIFEBOAT_OBJECT_LOCK');
      const rawDays = env.get('LIFEBOAT_RETENTION_DAYS');
      if (isUnknown(mode) || isUnknown(rawDays)) continue;
      const days = classDays(rawDays);
      if (typeof days === 'string') {
        report(days, job);
        continue;
      }
      if (typeof mode === 'string' && MODES.includes(mode.trim().toLowerCase())) {
        locking = true;
        continue;
      }
      const longer = Object.entries(days).filter(([, d]) => d > floor).sort((a, b) => b[1] - a[1]);
      if (longer.length === 0) continue;
      const named = longer.map(([c, d]) => `${c} (${d} days)`).join(', ');
      const given = mode === undefined ? 'sets no LIFEBOAT_OBJECT_LOCK' : `sets LIFEBOAT_OBJECT_LOCK to ${JSON.stringify(mode)}, not governance or compliance`;
      report(`the backup job ${given}: its ${named} backups are locked only for the bucket's ${floor} days`, job);
    }
    if (!locking) return;
    for (const b of buckets) {
      if (b.type !== T.gcsBucket) continue;
      const enabled = at(b.props, 'enableObjectRetention');
      if (isUnknown(enabled) || enabled === true) continue;
      report('backup jobs lock their objects (LIFEBOAT_OBJECT_LOCK) but the bucket has no object retention (enableObjectRetention): GCS would refuse every locked upload', b);
    }
  },
});
