/**
 * The scheduler's file (`lifeboat schedule --config lifeboat.yaml`): YAML validated with zod, every bad key named
 * with what was expected. Secrets are references, never values: `databaseUrlFromEnv: SHOP_DATABASE_URL` or
 * `databaseUrlFile: /run/secrets/shop-url`; an inline URL that carries a password is refused, so the file can
 * be committed and shown.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Cron } from 'croner';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { usageError } from '../errors';
import type { Channel } from '../notify/channels';
import { NOTIFY_REASONS, type NotifyReason } from '../notify/reasons';
import { registerSecret } from '../redact';
import { parseDurationMs } from './duration';

const duration = z.string().refine((v) => parseDurationMs(v) !== undefined, { message: 'expected a duration like 6h, 90m, 30s or 1h30m' });

const timeZone = z.string().refine(isTimeZone, { message: 'expected an IANA time zone such as UTC or Europe/Berlin' });

/** A value for a job's environment: inline (no credentials), or a reference to a variable or a file. */
const envValue = z.union([z.string(), z.strictObject({ fromEnv: z.string().min(1) }), z.strictObject({ file: z.string().min(1) })]);

const jobSchema = z
  .strictObject({
    every: duration.optional(),
    cron: z.string().optional(),
    timezone: timeZone.optional(),
    jitter: duration.optional(),
    /** Extra flags for the command, passed as given (e.g. ["--kind", "schema"], ["--yes"], ["--rpo", "26h"]). */
    args: z.array(z.string()).default([]),
    env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name'), envValue).default({}),
  })
  .refine((j) => (j.every === undefined) !== (j.cron === undefined), { message: 'expected exactly one of every or cron' });

/**
 * What a source's jobs can be. The point-in-time kinds run the `pitr` commands against the pgBackRest
 * configuration of the same name (`pitr init --source <name>`): a full and a differential backup usually on
 * different schedules, heartbeats every few minutes, and a drill.
 */
export const JOB_KINDS = ['backup', 'drill', 'status', 'prune', 'pitr-full', 'pitr-diff', 'pitr-incr', 'pitr-heartbeat', 'pitr-drill'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** `<name>`, `<name>FromEnv` and `<name>File`: at most one of them (the caller says whether one is required). */
function secretRef<N extends string>(name: N) {
  return {
    [name]: z.string().min(1).optional(),
    [`${name}FromEnv`]: z.string().min(1).optional(),
    [`${name}File`]: z.string().min(1).optional(),
  } as Record<N | `${N}FromEnv` | `${N}File`, z.ZodOptional<z.ZodString>>;
}

const sourceSchema = z.strictObject({
  engine: z.enum(['postgres', 'redis']).default('postgres'),
  ...secretRef('databaseUrl'),
  ...secretRef('redisUrl'),
  jobs: z
    .strictObject(Object.fromEntries(JOB_KINDS.map((k) => [k, jobSchema.optional()])) as Record<JobKind, z.ZodOptional<typeof jobSchema>>)
    .refine((j) => Object.values(j).some(Boolean), { message: `expected at least one of ${JOB_KINDS.join(', ')}` }),
  env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name'), envValue).default({}),
});


const notifySchema = z.strictObject({
  on: z.array(z.enum(NOTIFY_REASONS)).default([...NOTIFY_REASONS]),
  webhook: z.array(z.strictObject(secretRef('url'))).default([]),
  slack: z.array(z.strictObject(secretRef('url'))).default([]),
  email: z
    .array(z.strictObject({ ...secretRef('smtpUrl'), from: z.email(), to: z.array(z.email()).min(1) }))
    .default([]),
  retry: z.strictObject({ attempts: z.int().min(1).max(10).default(4), backoff: duration.default('1s') }).default({ attempts: 4, backoff: '1s' }),
  /** A job that keeps failing notifies again only after this long (0s: on every failure). */
  repeat: duration.default('0s'),
});

const configSchema = z.strictObject({
  ...secretRef('storage'),
  timezone: timeZone.default('UTC'),
  jitter: duration.default('0s'),
  stopTimeout: duration.default('10m'),
  stateFile: z.string().min(1).optional(),
  notify: notifySchema.optional(),
  sources: z.record(z.string().regex(/^[A-Za-z0-9._-]{1,63}$/, 'expected a source name of letters, digits, ".", "_", "-" (at most 63)'), sourceSchema).refine(
    (s) => Object.keys(s).length > 0,
    { message: 'expected at least one source' },
  ),
});

export type Timing = { every: number } | { cron: string; timezone: string };

/** One scheduled job, ready to run: the CLI arguments and the environment its run gets. */
export interface JobSpec {
  /** `<source>/<kind>`: the key of its state and its metrics. */
  id: string;
  source: string;
  engine: 'postgres' | 'redis';
  kind: JobKind;
  timing: Timing;
  jitterMs: number;
  argv: string[];
  /** Variables for this job's runs (secrets resolved); the daemon's own environment underneath. */
  env: Record<string, string>;
}


export interface NotifySpec {
  on: NotifyReason[];
  channels: Channel[];
  attempts: number;
  backoffMs: number;
  repeatMs: number;
}

export interface ScheduleConfig {
  stateFile: string;
  stopTimeoutMs: number;
  notify: NotifySpec;
  jobs: JobSpec[];
}

/** Reads and validates the file; every problem is a usage error (exit 2) naming the key. */
export function loadScheduleConfig(file: string, env: NodeJS.ProcessEnv): ScheduleConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw usageError('config_unreadable', `--config ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw usageError('config_invalid', `${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return resolveScheduleConfig(doc, { env, file });
}

/** Validates a parsed document. `file` names the config in messages and anchors a relative stateFile. */
export function resolveScheduleConfig(doc: unknown, opts: { env: NodeJS.ProcessEnv; file: string }): ScheduleConfig {
  const parsed = configSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => describeIssue(i));
    throw usageError('config_invalid', `${opts.file}: ${problems.join('; ')}`);
  }
  const c = parsed.data;
  const problems: string[] = [];
  const secret = (where: string, holder: Record<string, unknown>, name: string, required: boolean, inlineAllowed = true): string | undefined => {
    const given = [name, `${name}FromEnv`, `${name}File`].filter((k) => holder[k] !== undefined);
    if (given.length > 1) problems.push(`${where}: expected one of ${name}, ${name}FromEnv or ${name}File, got ${given.join(' and ')}`);
    if (given.length === 0) {
      if (required) problems.push(`${where}: expected ${name}, ${name}FromEnv or ${name}File`);
      return undefined;
    }
    const value = resolveValue(`${where}.${given[0]}`, given[0] === name ? holder[name] : given[0]!.endsWith('FromEnv') ? { fromEnv: holder[given[0]!] } : { file: holder[given[0]!] }, opts.env, problems, inlineAllowed ? undefined : `${name}FromEnv or ${name}File`);
    return value;
  };
  const storage = secret('storage', c, 'storage', true);
  const stateFile = c.stateFile
    ? path.resolve(path.dirname(opts.file), c.stateFile)
    : path.join(path.dirname(path.resolve(opts.file)), '.lifeboat-schedule-state.json');

  const jobs: JobSpec[] = [];
  for (const [name, s] of Object.entries(c.sources)) {
    const where = `sources.${name}`;
    const connKey = s.engine === 'postgres' ? 'databaseUrl' : 'redisUrl';
    const other = s.engine === 'postgres' ? 'redisUrl' : 'databaseUrl';
    for (const k of [other, `${other}FromEnv`, `${other}File`]) {
      if ((s as Record<string, unknown>)[k] !== undefined) problems.push(`${where}.${k}: not for a ${s.engine} source (expected ${connKey})`);
    }
    const url = secret(where, s, connKey, true);
    const sourceEnv = resolveEnv(`${where}.env`, s.env, opts.env, problems);
    for (const [kind, j] of Object.entries(s.jobs) as [JobKind, z.infer<typeof jobSchema> | undefined][]) {
      if (!j) continue;
      const jw = `${where}.jobs.${kind}`;
      if ((kind === 'drill' || kind.startsWith('pitr-')) && s.engine === 'redis') {
        problems.push(`${jw}: ${kind === 'drill' ? 'drills are' : 'point-in-time recovery is'} for postgres sources (expected backup, status or prune)`);
        continue;
      }
      const tz = j.timezone ?? c.timezone;
      if (j.cron !== undefined) {
        try {
          new Cron(j.cron, { timezone: tz, paused: true }).stop();
        } catch (e) {
          problems.push(`${jw}.cron: expected a cron expression such as "0 2 * * *", got ${JSON.stringify(j.cron)} (${(e as Error).message.split('.')[0]})`);
        }
      }
      for (const [i, a] of j.args.entries()) {
        if (hasInlinePassword(a)) problems.push(`${jw}.args[${i}]: a password inline is refused; put the URL in env with fromEnv or file`);
      }
      const timing: Timing = j.every !== undefined ? { every: parseDurationMs(j.every)! } : { cron: j.cron!, timezone: tz };
      if ('every' in timing && timing.every < 1000) problems.push(`${jw}.every: expected at least 1s, got ${j.every}`);
      jobs.push({
        id: `${name}/${kind}`,
        source: name,
        engine: s.engine,
        kind,
        timing,
        jitterMs: parseDurationMs(j.jitter ?? c.jitter)!,
        argv: jobArgv(kind, s.engine, name, j.args),
        env: {
          ...sourceEnv,
          ...resolveEnv(`${jw}.env`, j.env, opts.env, problems),
          ...(storage !== undefined ? { LIFEBOAT_STORAGE: storage } : {}),
          ...(url !== undefined ? { [s.engine === 'postgres' ? 'DATABASE_URL' : 'LIFEBOAT_REDIS_URL']: url } : {}),
        },
      });
    }
  }

  const channels: Channel[] = [];
  const n = c.notify;
  n?.webhook.forEach((w, i) => {
    const url = secret(`notify.webhook[${i}]`, w, 'url', true);
    if (url !== undefined) channels.push({ type: 'webhook', url });
  });
  // A Slack incoming-webhook URL is itself the credential: it comes from a variable or a file only.
  n?.slack.forEach((w, i) => {
    const url = secret(`notify.slack[${i}]`, w, 'url', true, false);
    if (url !== undefined) channels.push({ type: 'slack', url });
  });
  n?.email.forEach((m, i) => {
    const url = secret(`notify.email[${i}]`, m, 'smtpUrl', true);
    if (url !== undefined) channels.push({ type: 'email', url, from: m.from, to: m.to });
  });
  for (const ch of channels) {
    if (!/^((slack\+)?https?|smtps?):\/\//.test(ch.url)) problems.push(`notify.${ch.type}: expected an ${ch.type === 'email' ? 'smtp:// or smtps://' : 'http:// or https://'} URL`);
  }

  if (problems.length) throw usageError('config_invalid', `${opts.file}: ${problems.join('; ')}`);
  return {
    stateFile,
    stopTimeoutMs: parseDurationMs(c.stopTimeout)!,
    notify: { on: n?.on ?? [...NOTIFY_REASONS], channels, attempts: n?.retry.attempts ?? 4, backoffMs: parseDurationMs(n?.retry.backoff ?? '1s')!, repeatMs: parseDurationMs(n?.repeat ?? '0s')! },
    jobs,
  };
}

/** The command line of a job's runs: the command, the source it is for, then the file's args as given. */
export function jobArgv(kind: JobKind, engine: 'postgres' | 'redis', source: string, args: string[]): string[] {
  switch (kind) {
    case 'pitr-full':
    case 'pitr-diff':
    case 'pitr-incr':
      return ['pitr', 'backup', '--type', kind.slice('pitr-'.length), '--source', source, ...args];
    // A heartbeat is a row in the database at DATABASE_URL; it names no source.
    case 'pitr-heartbeat':
      return ['pitr', 'heartbeat', ...args];
    case 'pitr-drill':
      // A drill needs a target; an hour ago unless the file says otherwise.
      return ['pitr', 'drill', '--source', source, ...(args.includes('--ago') || args.includes('--to-time') ? [] : ['--ago', '1h']), ...args];
    case 'status':
    case 'prune':
      return [kind, '--source', source, '--engine', engine, ...args];
    default:
      return [...(engine === 'redis' && kind === 'backup' ? ['redis', 'backup'] : [kind]), '--source', source, ...args];
  }
}

function resolveEnv(where: string, vars: Record<string, z.infer<typeof envValue>>, env: NodeJS.ProcessEnv, problems: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) {
    const value = resolveValue(`${where}.${k}`, v, env, problems);
    if (value !== undefined) out[k] = value;
  }
  return out;
}

/** An inline value (refused when it carries a password), a variable's value or a file's first line. */
function resolveValue(where: string, v: unknown, env: NodeJS.ProcessEnv, problems: string[], refuseInline?: string): string | undefined {
  if (typeof v === 'string') {
    if (refuseInline) {
      problems.push(`${where}: a secret inline is refused; expected ${refuseInline}`);
      return undefined;
    }
    if (hasInlinePassword(v)) {
      problems.push(`${where}: a password inline is refused; a secret comes from a variable or a file (<key>FromEnv or <key>File; under env, { fromEnv } or { file })`);
      return undefined;
    }
    return v;
  }
  const ref = v as { fromEnv?: string; file?: string };
  if (ref.fromEnv !== undefined) {
    const value = env[ref.fromEnv];
    if (!value) {
      problems.push(`${where}: the variable ${ref.fromEnv} is not set`);
      return undefined;
    }
    registerSecret(value);
    return value;
  }
  try {
    const value = readFileSync(ref.file!, 'utf8').replace(/\r?\n$/, '');
    if (!value) throw new Error('empty');
    registerSecret(value);
    return value;
  } catch (e) {
    problems.push(`${where}: cannot read ${ref.file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    return undefined;
  }
}

/** A URL with a password in it (`scheme://user:password@host`), anywhere in the text. */
export function hasInlinePassword(text: string): boolean {
  return /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i.test(text);
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function describeIssue(i: z.core.$ZodIssue): string {
  const where = i.path.length ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') : '(top level)';
  if (i.code === 'unrecognized_keys') return `${where === '(top level)' ? '' : `${where}: `}unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}${expectedKeys(i.path)}`;
  // A bad record key (a source's name, a variable's name): the key's own rule says what was expected.
  if (i.code === 'invalid_key') return `${where}: ${i.issues[0]?.message ?? i.message}`;
  return `${where}: ${i.message.replace(/^Invalid input: /, '')}`;
}

/** The keys a level accepts, so a misspelt key's message says what was meant. */
function expectedKeys(at: readonly PropertyKey[]): string {
  const level = at.length === 0 ? 'top' : at[0] === 'sources' && at.length === 2 ? 'source' : at[at.length - 1] === 'jobs' ? 'jobs' : at.length >= 4 && at[2] === 'jobs' ? 'job' : at[0] === 'notify' && at.length === 1 ? 'notify' : undefined;
  const keys: Record<string, string> = {
    top: 'storage, storageFromEnv, storageFile, timezone, jitter, stopTimeout, stateFile, notify, sources',
    source: 'engine, databaseUrl(FromEnv|File), redisUrl(FromEnv|File), jobs, env',
    jobs: JOB_KINDS.join(', '),
    job: 'every, cron, timezone, jitter, args, env',
    notify: 'on, webhook, slack, email, retry, repeat',
  };
  return level ? ` (expected ${keys[level]})` : '';
}
