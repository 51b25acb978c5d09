// lifeboat:pitr: defaults, every bad value named by its key, and the pure schedule helpers, as tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../../infra/config/load';
import { everyAsCron, longestGapSeconds } from '../../../infra/config/pitr';
import { gcpRaw } from '../helpers';

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

function awsRaw(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'lifeboat:platform': 'aws',
    'aws:region': 'eu-west-1',
    'lifeboat:drRegion': 'eu-central-1',
    'lifeboat:runnerImage': 'example/lifeboat@sha256:' + 'a'.repeat(64),
    'lifeboat:aws': { accountId: '123456789012', network: { subnetIds: ['subnet-0a'], securityGroupIds: ['sg-0a'] } },
    'lifeboat:databases': [{ name: 'orders', instance: { mode: 'adopt', name: 'orders-pg' } }, { name: 'shop' }],
    'lifeboat:alerts': { emails: ['oncall@example.com'] },
    ...over,
  };
}

function k8sRaw(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'lifeboat:platform': 'kubernetes',
    'lifeboat:runnerImage': 'example/lifeboat@sha256:' + 'a'.repeat(64),
    'lifeboat:databases': [{ name: 'orders' }],
    'lifeboat:alerts': { existingChannels: ['oncall'] },
    'lifeboat:kubernetes': { storage: { url: 's3://bucket/k8s' }, prometheusOperator: true },
    ...over,
  };
}

test('lifeboat:pitr is off by default and covers nothing', () => {
  const cfg = parseConfig(gcpRaw(), 'prod');
  assert.equal(cfg.pitr.enabled, false);
  assert.deepEqual(cfg.pitr.databases, []);
});

test('lifeboat:pitr on: every database, with weekly full, daily diff, 5-minute heartbeats and a daily drill an hour back', () => {
  const cfg = parseConfig(gcpRaw({ 'lifeboat:pitr': { enabled: true } }), 'prod');
  assert.deepEqual(
    { ...cfg.pitr },
    {
      enabled: true,
      databases: ['orders'],
      fullCron: '0 1 * * 0',
      diffCron: '0 1 * * 1-6',
      heartbeatEvery: '5m',
      archivingCheckEvery: '10m',
      drillCron: '0 5 * * *',
      drillAgo: '1h',
      drillSlack: '6h',
      rpo: '15m',
      rto: '1h',
    },
  );
});

test('lifeboat:pitr.databases limits which databases it covers', () => {
  const cfg = parseConfig(awsRaw({ 'lifeboat:pitr': { enabled: true, databases: ['shop'] } }), 'prod');
  assert.deepEqual(cfg.pitr.databases, ['shop']);
});

const BAD: Array<[string, Record<string, unknown>, RegExp]> = [
  ['unknown key', gcpRaw({ 'lifeboat:pitr': { enabled: true, fullcron: '0 1 * * 0' } }), /^lifeboat:pitr: unknown key "fullcron"$/],
  ['enabled not a boolean', gcpRaw({ 'lifeboat:pitr': { enabled: 'yes' } }), /^lifeboat:pitr\.enabled: expected boolean, got "yes"$/],
  ['drillCron not cron', gcpRaw({ 'lifeboat:pitr': { enabled: true, drillCron: 'daily' } }), /^lifeboat:pitr\.drillCron: expected a 5-field cron expression/],
  ['drillAgo not a duration', gcpRaw({ 'lifeboat:pitr': { enabled: true, drillAgo: '1 hour' } }), /^lifeboat:pitr\.drillAgo: expected a duration like "90s", "30m", "26h" or "7d", got "1 hour"$/],
  ['unknown database', gcpRaw({ 'lifeboat:pitr': { enabled: true, databases: ['billing'] } }), /^lifeboat:pitr\.databases\[0\]: expected one of the databases' names \(orders\), got "billing"$/],
  ['heartbeat every 7 minutes', gcpRaw({ 'lifeboat:pitr': { enabled: true, heartbeatEvery: '7m' } }), /^lifeboat:pitr\.heartbeatEvery: expected minutes that divide an hour .* got "7m"$/],
  ['archiving check every 90 seconds', k8sRaw({ 'lifeboat:pitr': { enabled: true, drillImage: 'x/pitr:1', archivingCheckEvery: '90s' } }), /^lifeboat:pitr\.archivingCheckEvery: expected minutes that divide an hour/],
  [
    'a managed database without PITR',
    gcpRaw({ 'lifeboat:databases': [{ name: 'orders', instance: { mode: 'adopt', name: 'orders-pg' }, managedBackup: { pointInTimeRecovery: false } }], 'lifeboat:pitr': { enabled: true } }),
    /^lifeboat:databases\[0\]\.managedBackup\.pointInTimeRecovery: expected true because lifeboat:pitr covers database "orders" .* got false$/,
  ],
  ['kubernetes without a drill image', k8sRaw({ 'lifeboat:pitr': { enabled: true } }), /^lifeboat:pitr\.drillImage: expected an image with the runner, pgBackRest and the PostgreSQL server .* got nothing$/],
  ['aws: a monthly drill does not fit a 7-day alarm', awsRaw({ 'lifeboat:pitr': { enabled: true, drillCron: '0 5 1 * *' } }), /^lifeboat:pitr\.drillCron: expected a drill at least every 7 days minus drillSlack \(6h\) on aws .* got "0 5 1 \* \*"$/],
  ['aws: a weekly drill plus slack does not fit either', awsRaw({ 'lifeboat:pitr': { enabled: true, drillCron: '0 5 * * 0' } }), /^lifeboat:pitr\.drillCron: expected a drill at least every 7 days/],
  [
    'a dr stack',
    gcpRaw({ 'lifeboat:role': 'dr', 'lifeboat:recovery': { backupBucket: 'acme-prod-dr-backups' }, 'lifeboat:pitr': { enabled: true } }),
    /^lifeboat:pitr\.enabled: expected false on a stack with role "dr"/,
  ],
];

for (const [title, raw, expected] of BAD) {
  test(`lifeboat:pitr refused: ${title}`, () => {
    const problems = problemsOf(raw);
    assert.ok(problems.some((p) => expected.test(p)), `no problem matched ${expected}: ${JSON.stringify(problems)}`);
  });
}

test('a weekly drill passes on gcp and kubernetes (no 7-day alarm limit there)', () => {
  assert.equal(parseConfig(gcpRaw({ 'lifeboat:pitr': { enabled: true, drillCron: '0 5 * * 0' } }), 'prod').pitr.drillCron, '0 5 * * 0');
  assert.equal(parseConfig(k8sRaw({ 'lifeboat:pitr': { enabled: true, drillImage: 'x/pitr:1', drillCron: '0 5 * * 0' } }), 'prod').pitr.enabled, true);
});

const EVERY: Array<[number, string | undefined]> = [
  [60, '* * * * *'],
  [300, '*/5 * * * *'],
  [900, '*/15 * * * *'],
  [1800, '*/30 * * * *'],
  [3600, '0 * * * *'],
  [6 * 3600, '0 */6 * * *'],
  [86_400, '0 0 * * *'],
  [420, undefined],
  [90, undefined],
  [45, undefined],
  [5 * 3600, undefined],
  [2 * 86_400, undefined],
  [0, undefined],
];
for (const [seconds, expected] of EVERY) {
  test(`everyAsCron(${seconds}) = ${String(expected)}`, () => assert.equal(everyAsCron(seconds), expected));
}

const GAPS: Array<[string, number]> = [
  ['0 5 * * *', 86_400],
  ['*/5 * * * *', 300],
  ['0 1 * * 0', 7 * 86_400],
  ['0 1 * * 1-6', 2 * 86_400],
  ['0 5,17 * * *', 12 * 3600],
  ['0 5 1 * *', 31 * 86_400],
];
for (const [expression, seconds] of GAPS) {
  test(`longestGapSeconds("${expression}") = ${seconds}`, () => assert.equal(longestGapSeconds(expression), seconds));
}
