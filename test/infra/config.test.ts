import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, NAME_PREFIX_MAX, decodeConfigValues, derivedNamePrefix, keyPath, parseConfig } from '../../infra/config/load';
import { durationSeconds, isCron } from '../../infra/config/values';
import { DEFAULT_RETENTION_DAYS } from '../../runner/contract/layout';
import { gcpRaw } from './helpers';

function problemsOf(raw: Record<string, unknown>): string[] {
  try {
    parseConfig(raw, 'test');
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.equal(e.exitCode, 2);
    return e.problems;
  }
  assert.fail('expected a ConfigError');
}

test('a minimal GCP stack gets every default', () => {
  const cfg = parseConfig(gcpRaw(), 'prod');
  assert.equal(cfg.environment, 'prod');
  assert.equal(cfg.namePrefix, 'lifeboat-prod');
  assert.deepEqual(cfg.retentionDays, DEFAULT_RETENTION_DAYS);
  assert.equal(cfg.minimumRetentionDays, 7);
  assert.equal(cfg.deletionProtection, true);
  assert.equal(cfg.retentionLocked, false);
  assert.equal(cfg.timeZone, 'Etc/UTC');
  const db = cfg.databases[0]!;
  assert.equal(db.database, 'orders');
  assert.equal(db.secrets.databaseUrl, 'lifeboat-prod-orders-database-url');
  assert.equal(db.managedBackup.retainedBackups, 30);
  assert.equal(db.managedBackup.pointInTimeRecovery, true);
  assert.equal(db.schedule, '30 2 * * *');
  assert.deepEqual(cfg.gcp, {
    project: 'acme-prod', region: 'europe-west1', bucketLocation: 'EUR4', turboReplication: false,
    job: { cpu: '1', memory: '2Gi', timeout: '2h', restoreTimeout: '4h', maxRetries: 1 }, existingSecrets: [], schedulerRetries: 2,
    memorystore: { tier: 'STANDARD_HA', memorySizeGb: 1, redisVersion: 'REDIS_7_2' },
  });
});

test('an ephemeral stack defaults to destroyable and needs no DR region or alert channel', () => {
  const raw = gcpRaw({ 'lifeboat:ephemeral': true, 'lifeboat:alerts': undefined });
  delete raw['lifeboat:drRegion'];
  delete raw['lifeboat:alerts'];
  const cfg = parseConfig(raw, 'pr-42');
  assert.equal(cfg.deletionProtection, false);
  assert.equal(cfg.drRegion, undefined);
});

const bad: Array<[string, Record<string, unknown>, RegExp]> = [
  ['platform', { 'lifeboat:platform': 'azure' }, /^lifeboat:platform: expected one of "gcp", "aws", "kubernetes", got "azure"$/],
  ['cron', { 'lifeboat:databases': [{ name: 'orders', instance: { mode: 'adopt', name: 'o' + 'x' }, schedule: 'every day' }] }, /^lifeboat:databases\[0\]\.schedule: expected a 5-field cron.*got "every day"$/],
  ['cron range', { 'lifeboat:redis': [{ name: 'cache', schedule: '61 2 * * *' }] }, /^lifeboat:redis\[0\]\.schedule: expected a 5-field cron/],
  ['duration', { 'lifeboat:databases': [{ name: 'orders', instance: { mode: 'adopt', name: 'ox' }, rpo: '1 day' }] }, /^lifeboat:databases\[0\]\.rpo: expected a duration like "90s".*got "1 day"$/],
  ['retention type', { 'lifeboat:retentionDays': { daily: 'seven' } }, /^lifeboat:retentionDays\.daily: expected a whole number, got "seven"$/],
  ['unknown nested key', { 'lifeboat:retentionDays': { hourly: 2 } }, /^lifeboat:retentionDays: unknown key "hourly"$/],
  ['unknown top key', { 'lifeboat:databse': [] }, /^lifeboat:databse: unknown key \(known: /],
  ['bucket location', { 'lifeboat:gcp': { bucketLocation: 'europe-west1' } }, /^lifeboat:gcp\.bucketLocation: expected one of "US", "EU", "ASIA", "ASIA1", "EUR4".*got "europe-west1"$/],
  ['project missing', { 'gcp:project': undefined }, /^gcp:project: expected the GCP project id/],
  ['dr region equal', { 'lifeboat:drRegion': 'europe-west1' }, /^lifeboat:drRegion: expected a region other than the primary region "europe-west1", got "europe-west1"$/],
  ['no channels', { 'lifeboat:alerts': {} }, /^lifeboat:alerts: expected at least one alert channel/],
  ['bad email', { 'lifeboat:alerts': { emails: ['oncall'] } }, /^lifeboat:alerts\.emails\[0\]: expected an email address, got "oncall"$/],
  ['source name', { 'lifeboat:databases': [{ name: 'Orders_DB', instance: { mode: 'adopt', name: 'ox' } }] }, /^lifeboat:databases\[0\]\.name: expected a name of 2-20 lowercase/],
  ['duplicate source', { 'lifeboat:redis': [{ name: 'orders' }] }, /^lifeboat:redis\[0\]\.name: expected a name not used by another source \(lifeboat:databases\[0\]\.name\), got "orders"$/],
  ['instance missing on gcp', { 'lifeboat:databases': [{ name: 'orders' }] }, /^lifeboat:databases\[0\]\.instance: expected \{ mode: create\|adopt, name \}/],
  ['lock in ephemeral', { 'lifeboat:ephemeral': true, 'lifeboat:retentionLocked': true }, /^lifeboat:retentionLocked: expected false in an ephemeral stack/],
  ['minimum retention', { 'lifeboat:minimumRetentionDays': 30 }, /^lifeboat:minimumRetentionDays: expected at most the shortest class retention \(7 days\), got 30$/],
  ['dr without recovery', { 'lifeboat:role': 'dr' }, /^lifeboat:recovery: expected \{ backupBucket \}/],
  ['age key', { 'lifeboat:ageRecipients': ['ssh-ed25519 AAAA'] }, /^lifeboat:ageRecipients\[0\]: expected an age public key/],
  ['log retention above Cloud SQL maximum', { 'lifeboat:databases': [{ name: 'orders', instance: { mode: 'adopt', name: 'ox' }, managedBackup: { transactionLogRetentionDays: 14 } }] }, /^lifeboat:databases\[0\]\.managedBackup\.transactionLogRetentionDays: expected at most 7 \(Cloud SQL for PostgreSQL keeps 1-7 days of transaction logs\), got 14$/],
  ['retained backups equal to log days', { 'lifeboat:databases': [{ name: 'orders', instance: { mode: 'adopt', name: 'ox' }, managedBackup: { retainedBackups: 7, transactionLogRetentionDays: 7 } }] }, /^lifeboat:databases\[0\]\.managedBackup\.retainedBackups: expected more than transactionLogRetentionDays \(7\) \(Cloud SQL refuses backup retention <= transaction log retention\), got 7$/],
  ['retained backups below default log days', { 'lifeboat:databases': [{ name: 'orders', instance: { mode: 'adopt', name: 'ox' }, managedBackup: { retainedBackups: 3 } }] }, /^lifeboat:databases\[0\]\.managedBackup\.retainedBackups: expected more than transactionLogRetentionDays \(7\).*got 3$/],
  ['ephemeral in production', { 'lifeboat:ephemeral': true, 'lifeboat:environment': 'prod' }, /^lifeboat:ephemeral: expected false in a production environment \(lifeboat:environment "prod"; .*\), got true$/],
  ['ephemeral in a qualified production environment', { 'lifeboat:ephemeral': true, 'lifeboat:environment': 'production-eu' }, /^lifeboat:ephemeral: expected false in a production environment \(lifeboat:environment "production-eu"; /],
  ['runner image missing', { 'lifeboat:runnerImage': undefined }, /^lifeboat:runnerImage: expected string, got nothing$/],
];

for (const [label, over, pattern] of bad) {
  test(`config error names the key: ${label}`, () => {
    const raw = gcpRaw(over);
    for (const [k, v] of Object.entries(over)) if (v === undefined) delete raw[k];
    const problems = problemsOf(raw);
    assert.ok(problems.some((p) => pattern.test(p)), `no problem matched ${pattern}:\n${problems.join('\n')}`);
  });
}

test('every problem is reported at once, not just the first', () => {
  const problems = problemsOf(gcpRaw({ 'lifeboat:timeZone': 5, 'lifeboat:retentionDays': { daily: 0 } }));
  assert.equal(problems.length, 2, problems.join('\n'));
});

test('the error message lists the stack and every problem', () => {
  try {
    parseConfig(gcpRaw({ 'lifeboat:platform': 'azure' }), 'prod');
    assert.fail('expected an error');
  } catch (e) {
    assert.match((e as Error).message, /^invalid config for stack "prod":\n {2}lifeboat:platform: /);
  }
});

test('config strings from the runtime decode: JSON for structures and scalars, text otherwise', () => {
  assert.deepEqual(
    decodeConfigValues({ 'a:b': '[1,2]', 'a:c': 'true', 'a:d': 'europe-west1', 'a:e': '7', 'a:f': '{"x":1}', 'a:g': '{oops' }),
    { 'a:b': [1, 2], 'a:c': true, 'a:d': 'europe-west1', 'a:e': 7, 'a:f': { x: 1 }, 'a:g': '{oops' },
  );
});

test('keyPath renders array indexes and nested keys', () => {
  assert.equal(keyPath(['lifeboat:databases', 0, 'secrets', 'scratchUrl']), 'lifeboat:databases[0].secrets.scratchUrl');
});

const crons: Array<[string, boolean]> = [
  ['30 2 * * *', true], ['*/15 * * * *', true], ['0 6 * * 1-5', true], ['0 0 1,15 * *', true], ['0 0 * * 7', true],
  ['60 2 * * *', false], ['0 24 * * *', false], ['0 0 0 * *', false], ['* * * *', false], ['@daily', false],
  ['0 0 * * MON', false], ['*/0 * * * *', false],
];
for (const [expr, ok] of crons) {
  test(`isCron(${JSON.stringify(expr)}) is ${ok}`, () => assert.equal(isCron(expr), ok));
}

test('durations convert to seconds', () => {
  assert.equal(durationSeconds('90s'), 90);
  assert.equal(durationSeconds('30m'), 1800);
  assert.equal(durationSeconds('26h'), 93_600);
  assert.equal(durationSeconds('7d'), 604_800);
  assert.throws(() => durationSeconds('1w'));
  assert.throws(() => durationSeconds('0h'));
});

test('Pulumi.yaml declares defaults equal to the schema defaults, and only known keys', async () => {
  const { parse } = await import('yaml');
  const { readFileSync } = await import('node:fs');
  const project = parse(readFileSync(`${__dirname}/../../Pulumi.yaml`, 'utf8')) as { config: Record<string, { default?: unknown }> };
  const cfg = parseConfig(gcpRaw(), 'prod') as unknown as Record<string, unknown>;
  for (const [key, decl] of Object.entries(project.config)) {
    assert.ok(key in cfg, `Pulumi.yaml declares ${key}, which the config model does not know`);
    if ('default' in decl) assert.deepEqual(decl.default, cfg[key], `default of ${key}`);
  }
});

test('a stack named prod cannot be ephemeral; review and staging environments can', () => {
  const raw = gcpRaw({ 'lifeboat:ephemeral': true });
  delete raw['lifeboat:drRegion'];
  assert.throws(() => parseConfig(raw, 'prod'), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(e.problems.filter((p) => p.startsWith('lifeboat:ephemeral:')).length, 1, e.problems.join('\n'));
    assert.match(e.message, /lifeboat:environment "prod" \(from the stack name\)/);
    return true;
  });
  for (const env of ['pr-42', 'staging', 'preprod', 'product-demo', 'dev-prod']) {
    assert.equal(parseConfig({ ...raw, 'lifeboat:environment': env }, 'prod').ephemeral, true, env);
  }
  // The environment decides, not the stack name: a review copy of the prod stack names its own environment.
  assert.throws(() => parseConfig({ ...raw, 'lifeboat:environment': 'prod' }, 'pr-42'), /lifeboat:ephemeral: expected false in a production environment/);
});

test('a long stack name gets a name prefix that fits and stays unique (review stacks share their first characters)', () => {
  const raw = gcpRaw({ 'lifeboat:ephemeral': true });
  delete raw['lifeboat:drRegion'];
  const names = ['pr-pulumi-acme-lifeboat-42', 'pr-pulumi-acme-lifeboat-43', 'pr-pulumi-acme-lifeboat-142'];
  const prefixes = names.map((stack) => parseConfig(raw, stack).namePrefix);
  assert.equal(new Set(prefixes).size, names.length, prefixes.join(', '));
  for (const p of prefixes) {
    assert.ok(p.length <= NAME_PREFIX_MAX, p);
    assert.match(p, /^lifeboat-pr-pu-[0-9a-f]{6}$/);
  }
  // Short ones are kept as they read; the same stack always gets the same prefix.
  assert.equal(derivedNamePrefix('prod'), 'lifeboat-prod');
  assert.equal(derivedNamePrefix('pr-pulumi-acme-lifeboat-42'), prefixes[0]);
  // Every derived secret name follows the prefix, so review stacks do not share secrets either.
  assert.notEqual(parseConfig(raw, names[0]!).databases[0]!.secrets.databaseUrl, parseConfig(raw, names[1]!).databases[0]!.secrets.databaseUrl);
});

test('the environment derived from a stack name is a valid label value', () => {
  const cfg = parseConfig(gcpRaw(), `Team.Review_${'x'.repeat(80)}`);
  assert.match(cfg.environment, /^[a-z0-9-]{1,63}$/);
});

for (const stack of ['prod', 'staging', 'dr']) {
  test(`Pulumi.${stack}.yaml loads as a GCP stack and holds no secret value`, async () => {
    const { stackConfig } = await import('../../infra/synth/synth');
    const { config, secretKeys } = stackConfig(stack);
    assert.deepEqual(secretKeys, [], 'no secure values: secrets are named, their values live in Secret Manager');
    const cfg = parseConfig(decodeConfigValues(config), stack);
    assert.equal(cfg.platform, 'gcp');
    assert.equal(cfg.ephemeral, false);
    assert.ok(cfg.drRegion && cfg.drRegion !== cfg.gcp!.region);
    const text = JSON.stringify(config);
    assert.doesNotMatch(text, /\w+:\/\/[^/\s:@"]+:[^/\s@"]+@/, 'a URL with a password');
    assert.doesNotMatch(text, /AGE-SECRET-KEY-|-----BEGIN|"(password|token|key)"\s*:/i, 'a private key or a credential');
  });
}

test('a created instance without a name is named after the stack (review stacks do not share one); an adopted one must be named', () => {
  const raw = (stack: string) =>
    parseConfig(gcpRaw({ 'lifeboat:databases': [{ name: 'orders', instance: { mode: 'create' } }] }), stack).databases[0]!.instance!.name;
  assert.equal(raw('prod'), 'lifeboat-prod-orders');
  assert.notEqual(raw('pr-pulumi-acme-lifeboat-42'), raw('pr-pulumi-acme-lifeboat-43'));
  assert.match(raw('pr-pulumi-acme-lifeboat-42'), /^lifeboat-pr-pu-[0-9a-f]{6}-orders$/);
  const problems = problemsOf(gcpRaw({ 'lifeboat:databases': [{ name: 'orders', instance: { mode: 'adopt' } }] }));
  assert.ok(problems.includes('lifeboat:databases[0].instance.name: expected the name of the instance to adopt (mode adopt), got nothing'), problems.join('\n'));
});
