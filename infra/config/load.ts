/**
 * Stack config → one typed, validated object. `parseConfig` is pure (a plain object keyed by the full config key,
 * `lifeboat:databases`, `gcp:project`, ...) so it is tested on its own; `readStackConfig` is the thin reader of the
 * Pulumi runtime's config. Errors name the key, what was expected and what was given.
 */
import { createHash } from 'node:crypto';
import * as pulumi from '@pulumi/pulumi';
import { z } from 'zod';
import { LifeboatError } from '../../runner/errors';
import { BACKUP_CLASSES } from '../../runner/contract/layout';
import {
  PRODUCTION_ENVIRONMENTS,
  commonKeys,
  isProductionEnvironment,
  type AlertsConfig,
  type DatabaseConfig,
  type Platform,
  type RecoveryConfig,
  type RedisConfig,
  type RetentionDays,
  type StackRole,
} from './common';
import { gcpKeys, type GcpConfig } from './gcp';
import { awsKeys, type AwsConfig } from './aws';
import { kubernetesKeys, type KubernetesConfig } from './kubernetes';
import { checkPitr, pitrKeys, resolvePitr, type PitrConfig, type PitrSection } from './pitr';

export const PROJECT = 'lifeboat';

/** The whole validated config of one stack. Platform sections are present only for their platform. */
export interface LifeboatConfig {
  stack: string;
  platform: Platform;
  role: StackRole;
  ephemeral: boolean;
  environment: string;
  namePrefix: string;
  /** Absent only in ephemeral stacks. */
  drRegion?: string;
  runnerImage: string;
  timeZone: string;
  storageRoot: string;
  databases: DatabaseConfig[];
  redis: RedisConfig[];
  retentionDays: RetentionDays;
  drillReportRetentionDays: number;
  minimumRetentionDays: number;
  /** Effective: never true in an ephemeral stack. */
  retentionLocked: boolean;
  /** Effective: config value, else on unless ephemeral. */
  deletionProtection: boolean;
  ageRecipients: string[];
  ageIdentitySecret?: string;
  alerts: AlertsConfig;
  recovery?: RecoveryConfig;
  labels: Record<string, string>;
  /** Point-in-time recovery schedules (lifeboat:pitr), with the databases it covers resolved. */
  pitr: PitrConfig;
  gcp?: GcpConfig;
  aws?: AwsConfig;
  kubernetes?: KubernetesConfig;
}

/** Bad stack config: the synth exits 2 on it, `pulumi up` stops before creating anything. */
export class ConfigError extends LifeboatError {
  readonly problems: string[];
  constructor(stack: string, problems: string[]) {
    super('config_invalid', `invalid config for stack "${stack}":\n  ${problems.join('\n  ')}`, {
      exitCode: 2,
      hint: 'Fix the values in Pulumi.<stack>.yaml; Pulumi.yaml describes every key',
    });
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const rawSchema = z.object({
  ...Object.fromEntries(Object.entries(commonKeys).map(([k, v]) => [`${PROJECT}:${k}`, v])),
  ...gcpKeys,
  ...awsKeys,
  ...kubernetesKeys,
  ...pitrKeys,
}) as unknown as z.ZodObject<Record<string, z.ZodType>>;

const KNOWN_PROJECT_KEYS = new Set(Object.keys(rawSchema.shape).filter((k) => k.startsWith(`${PROJECT}:`)));

/** `['lifeboat:databases', 0, 'name']` → `lifeboat:databases[0].name`. */
export function keyPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function valueAt(raw: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v: unknown = raw;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function describeGiven(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text = JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const key = keyPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return `${key || 'config'}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  }
  let expected = issue.message.replace(/^Invalid input: /, '');
  if (issue.code === 'invalid_type') expected = issue.message.startsWith('expected') ? issue.message : `expected ${issue.expected}`;
  if (issue.code === 'invalid_value') expected = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  if (issue.code === 'too_small' || issue.code === 'too_big') expected = issue.message.replace(/^Too (small|big): /, 'expected ');
  return `${key}: ${expected}, got ${describeGiven(valueAt(raw, issue.path))}`;
}

/** Cloud SQL for PostgreSQL keeps at most 7 days of transaction logs for point-in-time recovery. */
export const CLOUD_SQL_MAX_LOG_DAYS = 7;

/** The longest name prefix: `<prefix>-<source>-<task>` must stay within Cloud Run's 63-character job names. */
export const NAME_PREFIX_MAX = 21;

/** The environment label derived from a stack name: a valid label value (lowercase, digits, hyphens, <= 63). */
export function environmentOf(stack: string): string {
  return stack.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63);
}

/**
 * `lifeboat-<environment>`, or, when that is too long, its head and a hash of the whole environment. Cutting alone
 * is not enough: every Pulumi Review Stack (`pr-<org>-<project>-<n>`) would get the same prefix, and with it the
 * same bucket, secrets, service accounts and jobs as every other open pull request.
 */
export function derivedNamePrefix(environment: string): string {
  const full = `lifeboat-${environment}`;
  if (full.length <= NAME_PREFIX_MAX) return full;
  const hash = createHash('sha256').update(environment).digest('hex').slice(0, 6);
  return `${full.slice(0, NAME_PREFIX_MAX - hash.length - 1).replace(/-+$/, '')}-${hash}`;
}

/** A created instance's default name; an adopted one must be named (it exists already). */
function derivedInstanceName(namePrefix: string, source: string, mode: 'create' | 'adopt', index: number, problems: string[]): string {
  if (mode === 'adopt') problems.push(`lifeboat:databases[${index}].instance.name: expected the name of the instance to adopt (mode adopt), got nothing`);
  return `${namePrefix}-${source}`;
}

/** Pure: validates a plain object of config keys (values already decoded from JSON) into the typed config. */
export function parseConfig(raw: Record<string, unknown>, stack: string): LifeboatConfig {
  const problems: string[] = [];
  for (const key of Object.keys(raw)) {
    if (key.startsWith(`${PROJECT}:`) && !KNOWN_PROJECT_KEYS.has(key)) {
      problems.push(`${key}: unknown key (known: ${[...KNOWN_PROJECT_KEYS].sort().join(', ')})`);
    }
  }
  const parsed = rawSchema.safeParse(raw);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => describeIssue(i, raw)));
  if (problems.length || !parsed.success) throw new ConfigError(stack, problems);
  const v = parsed.data as Record<string, unknown>;
  const get = <T>(key: string) => v[`${PROJECT}:${key}`] as T;

  const platform = get<Platform>('platform');
  const ephemeral = get<boolean>('ephemeral');
  const environment = get<string | undefined>('environment') ?? environmentOf(stack);
  const namePrefix = get<string | undefined>('namePrefix') ?? derivedNamePrefix(environment);
  const retentionDays = get<RetentionDays>('retentionDays');
  const shortestClass = Math.min(...BACKUP_CLASSES.map((c) => retentionDays[c]));
  const minimumRetentionDays = get<number | undefined>('minimumRetentionDays') ?? shortestClass;
  const rawDatabases = get<Array<z.output<typeof commonKeys.databases>[number]>>('databases');
  const databases: DatabaseConfig[] = rawDatabases.map((d, i) => ({
    ...d,
    instance: d.instance && { ...d.instance, name: d.instance.name ?? derivedInstanceName(namePrefix, d.name, d.instance.mode, i, problems) },
    database: d.database ?? d.name,
    secrets: {
      databaseUrl: d.secrets.databaseUrl ?? `${namePrefix}-${d.name}-database-url`,
      scratchUrl: d.secrets.scratchUrl ?? `${namePrefix}-${d.name}-scratch-url`,
      ...(d.secrets.application ? { application: d.secrets.application } : {}),
    },
  }));
  const redis: RedisConfig[] = get<Array<z.output<typeof commonKeys.redis>[number]>>('redis').map((r) => ({
    ...r,
    urlSecret: r.urlSecret ?? `${namePrefix}-${r.name}-redis-url`,
  }));

  const cfg: LifeboatConfig = {
    stack,
    platform,
    role: get<StackRole>('role'),
    ephemeral,
    environment,
    namePrefix,
    drRegion: get<string | undefined>('drRegion'),
    runnerImage: get<string>('runnerImage'),
    timeZone: get<string>('timeZone'),
    storageRoot: get<string>('storageRoot'),
    databases,
    redis,
    retentionDays,
    drillReportRetentionDays: get<number>('drillReportRetentionDays'),
    minimumRetentionDays,
    retentionLocked: get<boolean>('retentionLocked') && !ephemeral,
    deletionProtection: get<boolean | undefined>('deletionProtection') ?? !ephemeral,
    ageRecipients: get<string[]>('ageRecipients'),
    ageIdentitySecret: get<string | undefined>('ageIdentitySecret'),
    alerts: get<AlertsConfig>('alerts'),
    recovery: get<RecoveryConfig | undefined>('recovery'),
    labels: get<Record<string, string>>('labels'),
    pitr: resolvePitr(v['lifeboat:pitr'] as PitrSection, databases),
  };

  const region = platform === 'gcp' ? (v['gcp:region'] as string | undefined) : platform === 'aws' ? (v['aws:region'] as string | undefined) : undefined;
  if (platform === 'gcp') {
    const project = v['gcp:project'] as string | undefined;
    const section = v['lifeboat:gcp'] as Omit<GcpConfig, 'project' | 'region'> | undefined;
    if (!project) problems.push('gcp:project: expected the GCP project id (platform is gcp), got nothing');
    if (!region) problems.push('gcp:region: expected the GCP region, e.g. "europe-west1" (platform is gcp), got nothing');
    if (!section) problems.push('lifeboat:gcp: expected the GCP section with at least bucketLocation (platform is gcp), got nothing');
    if (project && region && section) cfg.gcp = { ...section, project, region };
    databases.forEach((d, i) => {
      if (!d.instance) problems.push(`lifeboat:databases[${i}].instance: expected { mode: create|adopt, name } (a Cloud SQL instance), got nothing`);
      const logDays = d.managedBackup.transactionLogRetentionDays;
      if (logDays > CLOUD_SQL_MAX_LOG_DAYS) {
        problems.push(`lifeboat:databases[${i}].managedBackup.transactionLogRetentionDays: expected at most ${CLOUD_SQL_MAX_LOG_DAYS} (Cloud SQL for PostgreSQL keeps 1-7 days of transaction logs), got ${logDays}`);
      }
      // The Cloud SQL Admin API answers 400 "backup retention should be > transaction log retention" otherwise:
      // refused here, before `pulumi up` has created half the stack.
      const retained = d.managedBackup.retainedBackups;
      if (retained <= logDays) {
        problems.push(`lifeboat:databases[${i}].managedBackup.retainedBackups: expected more than transactionLogRetentionDays (${logDays}) (Cloud SQL refuses backup retention <= transaction log retention), got ${retained}`);
      }
    });
  }
  if (platform === 'aws') {
    const awsSection = v['lifeboat:aws'] as Omit<AwsConfig, 'region'> | undefined;
    if (!region) problems.push('aws:region: expected the AWS region, e.g. "eu-west-1" (platform is aws), got nothing');
    if (!awsSection) problems.push('lifeboat:aws: expected the AWS section with at least accountId and network (platform is aws), got nothing');
    if (region && awsSection) cfg.aws = { ...awsSection, region };
  }
  if (platform === 'kubernetes') {
    const k8sSection = v['lifeboat:kubernetes'] as KubernetesConfig | undefined;
    if (!k8sSection) problems.push('lifeboat:kubernetes: expected the Kubernetes section with at least storage.url (platform is kubernetes), got nothing');
    else cfg.kubernetes = k8sSection;
  }

  if (ephemeral && isProductionEnvironment(environment)) {
    const from = get<string | undefined>('environment') === undefined ? ' (from the stack name)' : '';
    problems.push(
      `lifeboat:ephemeral: expected false in a production environment (lifeboat:environment ${JSON.stringify(environment)}${from}; ` +
        `${PRODUCTION_ENVIRONMENTS.join(', ')} and names starting with them and "-" are production, and ephemeral would switch off ` +
        'retention lock, deletion protection and the DR copy; give a throwaway stack its own environment name), got true',
    );
  }
  if (get<boolean>('retentionLocked') && ephemeral) {
    problems.push('lifeboat:retentionLocked: expected false in an ephemeral stack (a locked bucket cannot be destroyed), got true');
  }
  checkCrossField(cfg, region, problems);
  checkPitr(cfg, problems);
  if (problems.length) throw new ConfigError(stack, problems);
  return cfg;
}

/** Rules that span several keys. */
function checkCrossField(cfg: LifeboatConfig, region: string | undefined, problems: string[]): void {
  // On Kubernetes the bucket is given by URL (kubernetes.storage.url): its DR copy is configured where the bucket is.
  if (!cfg.ephemeral && !cfg.drRegion && cfg.platform !== 'kubernetes') {
    problems.push('lifeboat:drRegion: expected a region for the DR copy (required unless ephemeral), got nothing');
  }
  if (cfg.drRegion && region && cfg.drRegion === region) {
    problems.push(`lifeboat:drRegion: expected a region other than the primary region ${JSON.stringify(region)}, got ${JSON.stringify(cfg.drRegion)}`);
  }
  const seen = new Map<string, string>();
  const sources = [
    ...cfg.databases.map((d, i) => [d.name, `lifeboat:databases[${i}].name`] as const),
    ...cfg.redis.map((r, i) => [r.name, `lifeboat:redis[${i}].name`] as const),
  ];
  for (const [name, key] of sources) {
    const first = seen.get(name);
    if (first) problems.push(`${key}: expected a name not used by another source (${first}), got ${JSON.stringify(name)}`);
    else seen.set(name, key);
  }
  if (cfg.ageRecipients.length && !cfg.ageIdentitySecret) {
    problems.push('lifeboat:ageIdentitySecret: expected the secret holding the age identity (drills and restores decrypt with it) because ageRecipients is set, got nothing');
  }
  const a = cfg.alerts;
  const channels = a.emails.length + a.pagerduty.length + a.slack.length + a.existingChannels.length;
  if (!cfg.ephemeral && cfg.role === 'primary' && channels === 0) {
    problems.push('lifeboat:alerts: expected at least one alert channel (emails, pagerduty, slack or existingChannels) in a non-ephemeral stack, got none');
  }
  const shortest = Math.min(...BACKUP_CLASSES.map((c) => cfg.retentionDays[c]));
  if (cfg.minimumRetentionDays > shortest) {
    problems.push(`lifeboat:minimumRetentionDays: expected at most the shortest class retention (${shortest} days), got ${cfg.minimumRetentionDays}`);
  }
  if (cfg.role === 'dr') {
    if (!cfg.recovery) problems.push('lifeboat:recovery: expected { backupBucket } for a stack with role "dr", got nothing');
    else {
      const names = new Set(cfg.databases.map((d) => d.name));
      cfg.recovery.databases?.forEach((n, i) => {
        if (!names.has(n)) problems.push(`lifeboat:recovery.databases[${i}]: expected one of the databases' names (${[...names].join(', ') || 'none'}), got ${JSON.stringify(n)}`);
      });
      if (cfg.platform === 'gcp' && cfg.redis.length && cfg.gcp && !cfg.gcp.recoveryNetwork) {
        problems.push('lifeboat:gcp.recoveryNetwork: expected { network, subnetwork } (the VPC the recovered Memorystore and its restore job use) because the dr stack recovers Redis, got nothing');
      }
      // After a DR restore the application connects as its own role: the stack cannot repoint its secret without it.
      cfg.databases.forEach((d, i) => {
        if (d.secrets.application && !d.applicationRole) {
          problems.push(`lifeboat:databases[${i}].applicationRole: expected the PostgreSQL role the application logs in as (a DR stack repoints secrets.application at a URL with it), got nothing`);
        }
      });
    }
  }
}

/** Decodes the runtime's config strings: structured values arrive as JSON, scalars as plain text. */
export function decodeConfigValues(all: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(all)) {
    const t = text.trim();
    if (t.startsWith('{') || t.startsWith('[') || t === 'true' || t === 'false' || /^-?\d+(\.\d+)?$/.test(t)) {
      try {
        out[key] = JSON.parse(t);
        continue;
      } catch {
        // Not JSON after all: keep the text, the schema says what it expected.
      }
    }
    out[key] = text;
  }
  return out;
}

/** The thin reader: the running program's stack config, validated. */
export function readStackConfig(): LifeboatConfig {
  return parseConfig(decodeConfigValues(pulumi.runtime.allConfig()), pulumi.getStack());
}
