// Table-driven tests of the pure input builders behind the AWS components.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETENTION_DAYS, manifestKey, drillReportKey } from '../../../runner/contract/layout';
import { ALL_EVENT_NAMES, EVENTS } from '../../../runner/contract/events';
import { s3LifecycleRules, transitionsFor, defaultLockDays, normaliseRootPrefix } from '../../../infra/aws/lifecycle';
import {
  backupPolicy,
  restorePolicy,
  drillPolicy,
  schedulerPolicy,
  secretsReadPolicy,
  irsaTrustPolicy,
  DESTRUCTIVE_S3_ACTIONS,
  anyRevision,
} from '../../../infra/aws/iamDocuments';
import { toEventBridgeCron } from '../../../infra/aws/cron';
import { alarmSpecs, eventPattern, metricFilterSpecs, stalenessWindow, stalenessWindowProblem, taskStoppedPatterns } from '../../../infra/aws/alertRules';
import { containerDefinition } from '../../../infra/aws/containerDefinition';
import { ambiguousSecretName } from '../../../infra/aws/RunnerSecrets';
import { runnerTasks } from '../../../infra/shared/taskPlan';

/** The S3 prefix-match the lifecycle filter does. */
function ruleFor(rules: ReturnType<typeof s3LifecycleRules>, key: string) {
  return rules.filter((r) => r.expiration?.days !== undefined && key.startsWith(r.filter.prefix));
}

describe('s3LifecycleRules', () => {
  const cases = [
    { root: '', key: manifestKey('daily', 'postgres', 'main', '20261121T020000Z-3f9a'), days: 7 },
    { root: '', key: manifestKey('yearly', 'redis', 'cache', '20261121T020000Z-3f9a'), days: 2557 },
    { root: 'prod', key: 'prod/' + manifestKey('weekly', 'postgres', 'main', '20261121T020000Z-3f9a'), days: 35 },
    { root: '/prod/', key: 'prod/' + manifestKey('manual', 'postgres', 'main', '20261121T020000Z-3f9a'), days: 90 },
    { root: '', key: drillReportKey('postgres', 'main', new Date('2026-11-21T06:00:00Z')), days: 400 },
  ];
  for (const c of cases) {
    it(`expires ${c.key} (root ${JSON.stringify(c.root)}) after exactly ${c.days} days`, () => {
      const rules = s3LifecycleRules({ retentionDays: DEFAULT_RETENTION_DAYS, drillReportDays: 400, rootPrefix: c.root });
      const matching = ruleFor(rules, c.key);
      assert.equal(matching.length, 1, `one expiring rule per key, got ${matching.map((r) => r.id)}`);
      assert.equal(matching[0]!.expiration!.days, c.days);
      assert.equal(matching[0]!.noncurrentVersionExpiration!.noncurrentDays, 7);
    });
  }
  it('has a cleanup rule for incomplete uploads and delete markers, and unique ids', () => {
    const rules = s3LifecycleRules({ retentionDays: DEFAULT_RETENTION_DAYS, drillReportDays: 400, rootPrefix: 'x' });
    const cleanup = rules.find((r) => r.id === 'cleanup')!;
    assert.deepEqual(cleanup.abortIncompleteMultipartUpload, { daysAfterInitiation: 1 });
    assert.deepEqual(cleanup.expiration, { expiredObjectDeleteMarker: true });
    assert.equal(cleanup.filter.prefix, 'x/');
    assert.equal(new Set(rules.map((r) => r.id)).size, rules.length);
    assert.equal(rules.length, 7);
  });
  it('rejects a non-positive retention naming the class', () => {
    assert.throws(
      () => s3LifecycleRules({ retentionDays: { ...DEFAULT_RETENTION_DAYS, weekly: 0 }, drillReportDays: 1 }),
      /class "weekly".*got 0/,
    );
  });
  const transitions = [
    { days: 7, want: [] },
    { days: 89, want: [] },
    { days: 90, want: ['STANDARD_IA@30'] },
    { days: 400, want: ['STANDARD_IA@30', 'GLACIER_IR@90'] },
  ];
  for (const t of transitions) {
    it(`transitions for ${t.days} days: ${t.want.join(', ') || 'none'}`, () => {
      assert.deepEqual(transitionsFor(t.days).map((x) => `${x.storageClass}@${x.days}`), t.want);
    });
  }
  it('locks for the shortest class retention', () => {
    assert.equal(defaultLockDays(DEFAULT_RETENTION_DAYS), 7);
    assert.equal(defaultLockDays({ ...DEFAULT_RETENTION_DAYS, daily: 14, weekly: 10 }), 10);
    assert.equal(normaliseRootPrefix('//a/b//'), 'a/b/');
  });
});

describe('IAM policy documents', () => {
  const access = { bucketArn: 'arn:aws:s3:::b', kmsKeyArn: 'arn:aws:kms:eu-west-1:1:key/k', rootPrefix: 'prod' };
  const actions = (doc: { Statement: { Action: string[] }[] }) => doc.Statement.flatMap((s) => s.Action);
  const docs = { backup: backupPolicy(access), restore: restorePolicy(access), drill: drillPolicy(access) };
  for (const [role, doc] of Object.entries(docs)) {
    it(`${role}: no destructive S3 action, no wildcard action`, () => {
      for (const a of actions(doc)) {
        assert.ok(!(DESTRUCTIVE_S3_ACTIONS as readonly string[]).includes(a), `${role} has ${a}`);
        assert.ok(!a.includes('*') && !/delete/i.test(a), `${role} has ${a}`);
      }
    });
  }
  it('backup writes, reads and lists under the root only', () => {
    const put = docs.backup.Statement.find((s) => s.Action.includes('s3:PutObject'))!;
    assert.equal(put.Resource, 'arn:aws:s3:::b/prod/*');
    assert.deepEqual(docs.backup.Statement[0]!.Condition, { StringLike: { 's3:prefix': ['prod/*'] } });
  });
  it('restore cannot write; drill writes only drill reports', () => {
    assert.ok(!actions(docs.restore).includes('s3:PutObject'));
    const put = docs.drill.Statement.filter((s) => s.Action.includes('s3:PutObject'));
    assert.deepEqual(put.map((s) => s.Resource), ['arn:aws:s3:::b/prod/drills/*']);
  });
  it('scheduler runs any revision of the given families on one cluster and passes only ECS roles', () => {
    const doc = schedulerPolicy({
      clusterArn: 'arn:aws:ecs:r:1:cluster/c',
      taskDefinitionArns: ['arn:aws:ecs:r:1:task-definition/a:3', 'arn:aws:ecs:r:1:task-definition/a:4'],
      passRoleArns: ['arn:aws:iam::1:role/x', 'arn:aws:iam::1:role/x'],
    });
    assert.deepEqual(doc.Statement[0]!.Resource, ['arn:aws:ecs:r:1:task-definition/a:*']);
    assert.deepEqual(doc.Statement[0]!.Condition, { ArnEquals: { 'ecs:cluster': 'arn:aws:ecs:r:1:cluster/c' } });
    assert.deepEqual(doc.Statement[1]!.Resource, ['arn:aws:iam::1:role/x']);
    assert.equal(anyRevision('arn:aws:ecs:r:1:task-definition/fam:12'), 'arn:aws:ecs:r:1:task-definition/fam:*');
  });
  it('secrets: none → no policy; some → exactly those', () => {
    assert.equal(secretsReadPolicy([]), undefined);
    assert.deepEqual(secretsReadPolicy(['b', 'a'])!.Statement[0]!.Resource, ['a', 'b']);
  });
  it('IRSA trust is bound to one service account', () => {
    const doc = irsaTrustPolicy('arn:aws:iam::123:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC', 'lb', 'sa') as {
      Statement: { Condition: { StringEquals: Record<string, string> } }[];
    };
    assert.deepEqual(doc.Statement[0]!.Condition.StringEquals, {
      'oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub': 'system:serviceaccount:lb:sa',
      'oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud': 'sts.amazonaws.com',
    });
  });
});

describe('toEventBridgeCron', () => {
  const ok: Array<[string, string]> = [
    ['30 2 * * *', 'cron(30 2 * * ? *)'],
    ['0 6 * * 1', 'cron(0 6 ? * 2 *)'],
    ['0 6 * * 0', 'cron(0 6 ? * 1 *)'],
    ['0 6 * * 7', 'cron(0 6 ? * 1 *)'],
    ['0 6 * * 1-5', 'cron(0 6 ? * 2-6 *)'],
    ['0 6 * * 5-7', 'cron(0 6 ? * 6,7,1 *)'],
    ['0 6 * * MON,fri', 'cron(0 6 ? * MON,FRI *)'],
    ['*/15 * 1 * *', 'cron(*/15 * 1 * ? *)'],
    ['0 0 1 1,7 *', 'cron(0 0 1 1,7 ? *)'],
  ];
  for (const [unix, eb] of ok) it(`${unix} → ${eb}`, () => assert.equal(toEventBridgeCron(unix), eb));
  const bad: Array<[string, RegExp]> = [
    ['0 2 * *', /expected 5 fields/],
    ['0 2 1 * 1', /both day-of-month and day-of-week/],
    ['0 2 * * */2', /day-of-week "\*\/2" is not supported/],
    ['0 2 L * *', /day-of-month "L" is not supported/],
  ];
  for (const [unix, re] of bad) it(`refuses ${unix}`, () => assert.throws(() => toEventBridgeCron(unix), re));
});

describe('CloudWatch alert rules', () => {
  it('patterns come from the contract events', () => {
    assert.equal(eventPattern([EVENTS.backupFailed]), '{ ($.event = "backup.failed") }');
    for (const f of metricFilterSpecs()) {
      const names = [...f.pattern.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
      assert.ok(names.length > 0);
      for (const n of names) assert.ok((ALL_EVENT_NAMES as readonly string[]).includes(n!), `${n} is not a contract event`);
    }
    const failed = metricFilterSpecs().find((f) => f.metric === 'backupFailed')!;
    assert.equal(failed.pattern, '{ ($.event = "backup.failed") || ($.event = "redis.backup.failed") }');
    assert.equal(metricFilterSpecs().find((f) => f.metric === 'backupBytes')!.value, '$.bytes');
  });
  const windows: Array<[number, number, number]> = [
    [26, 3600, 26],
    [25.5, 3600, 26],
    [168, 3600, 168],
  ];
  for (const [h, period, n] of windows) {
    it(`staleness over ${h}h: ${n} periods of ${period}s`, () => assert.deepEqual(stalenessWindow(h), { period, evaluationPeriods: n }));
  }
  it('refuses a staleness window CloudWatch cannot evaluate (Period x EvaluationPeriods above 7 days)', () => {
    assert.throws(() => stalenessWindow(168.5), /expected at most 7d on aws.*got 168.5 hours/);
    assert.throws(() => stalenessWindow(200), /expected at most 7d on aws/);
    assert.equal(stalenessWindowProblem(168), undefined);
    for (const h of [1, 26, 168]) {
      const w = stalenessWindow(h);
      assert.ok(w.period * w.evaluationPeriods <= 604_800, `${h}h`);
    }
  });
  it('five conditions for a database with every threshold, two for a bare Redis', () => {
    const db = alarmSpecs({ source: 'main', engine: 'postgres', maxAgeHours: 26, minBytes: 1024, maxDurationSeconds: 3600, drills: true }, 'lg');
    assert.deepEqual(db.map((a) => a.condition), ['backup-failed', 'backup-stale', 'backup-too-small', 'backup-slow', 'drill-failed']);
    const stale = db.find((a) => a.condition === 'backup-stale')!;
    assert.equal(stale.treatMissingData, 'breaching');
    assert.equal(stale.datapointsToAlarm, 26);
    assert.equal(db.find((a) => a.condition === 'backup-too-small')!.threshold, 1024);
    assert.match(db[0]!.description, /lifeboat status --source main/);
    const redis = alarmSpecs({ source: 'cache', engine: 'redis', maxAgeHours: 26, drills: false }, 'lg');
    assert.deepEqual(redis.map((a) => a.condition), ['backup-failed', 'backup-stale']);
    assert.match(redis[0]!.description, /lifeboat redis backup/);
  });
});

describe('runnerTasks', () => {
  const base = {
    storageUrl: 's3://b/prod',
    ageRecipients: ['age1xyz'],
    backupTimeoutSeconds: 7200,
    drillTimeoutSeconds: 14400,
  };
  it('builds backup, drill and Redis tasks with secrets only by reference', () => {
    const tasks = runnerTasks({
      ...base,
      databases: [
        {
          name: 'main',
          schedule: '30 2 * * *',
          drillSchedule: '0 6 * * 1',
          rpo: '26h',
          rto: '1h',
          amcheck: true,
          secrets: { databaseUrl: 'db-url', scratchUrl: 'scratch-url' },
        },
      ],
      redis: [{ name: 'cache', urlSecret: 'redis-url', schedule: '15 3 * * *', method: 'dump' }],
    });
    assert.deepEqual(tasks.map((t) => [t.id, t.identity, t.timeoutSeconds]), [
      ['main-backup', 'backup', 7200],
      ['main-drill', 'drill', 14400],
      ['cache-redis-backup', 'backup', 7200],
    ]);
    assert.deepEqual(tasks[0]!.args, ['backup']);
    assert.deepEqual(tasks[0]!.secretEnv, { DATABASE_URL: 'db-url' });
    assert.deepEqual(tasks[1]!.args, ['drill', '--backup', 'latest', '--rpo', '26h', '--rto', '1h', '--amcheck']);
    assert.deepEqual(tasks[1]!.secretEnv, { LIFEBOAT_SCRATCH_URL: 'scratch-url' });
    assert.deepEqual(tasks[2]!.args, ['redis', 'backup', '--method', 'dump']);
    assert.equal(tasks[2]!.env.LIFEBOAT_SOURCE, 'cache');
    assert.equal(tasks[0]!.env.LIFEBOAT_AGE_RECIPIENTS, 'age1xyz');
    assert.equal(tasks[0]!.env.LIFEBOAT_STORAGE, 's3://b/prod');
  });
  it('gives drills the age identity secret when backups are encrypted', () => {
    const [, drill] = runnerTasks({
      ...base,
      ageIdentitySecret: 'age-id',
      databases: [{ name: 'm', schedule: '0 1 * * *', drillSchedule: '0 2 * * 1', rpo: '1d', rto: '1h', amcheck: false, secrets: { databaseUrl: 'u', scratchUrl: 's' } }],
      redis: [],
    });
    assert.deepEqual(drill!.secretEnv, { LIFEBOAT_SCRATCH_URL: 's', LIFEBOAT_AGE_IDENTITY: 'age-id' });
  });
});

describe('containerDefinition', () => {
  const [backup, drill] = runnerTasks({
    storageUrl: 's3://b',
    ageRecipients: [],
    ageIdentitySecret: 'age-id',
    backupTimeoutSeconds: 7200,
    drillTimeoutSeconds: 14400,
    databases: [{ name: 'm', schedule: '0 1 * * *', drillSchedule: '0 2 * * 1', rpo: '1d', rto: '1h', amcheck: false, secrets: { databaseUrl: 'm-url', scratchUrl: 'm-scratch' } }],
    redis: [],
  });
  const arn = (n: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${n}-AbC123`;
  const input = { image: 'img', entryPoint: ['node', '/app/dist/runner/cli.js'], logGroupName: '/lg', region: 'eu-west-1' };
  it('takes every secret by its full Secrets Manager ARN (ECS reads a bare name from SSM Parameter Store)', () => {
    const c = containerDefinition({ ...input, task: drill!, secretArns: { 'm-scratch': arn('m-scratch'), 'age-id': arn('age-id') } });
    assert.deepEqual(c.secrets, [
      { name: 'LIFEBOAT_AGE_IDENTITY', valueFrom: arn('age-id') },
      { name: 'LIFEBOAT_SCRATCH_URL', valueFrom: arn('m-scratch') },
    ]);
    for (const s of c.secrets) assert.match(s.valueFrom, /^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/);
  });
  it('refuses a task whose secret has no ARN, naming it', () => {
    assert.throws(() => containerDefinition({ ...input, task: backup!, secretArns: {} }), /task m-backup: no Secrets Manager ARN for secret "m-url"/);
  });
  it('runs the runner under a foreground timeout (the deadline signals the runner, not its pg_dump)', () => {
    const c = containerDefinition({ ...input, task: backup!, secretArns: { 'm-url': arn('m-url') } });
    assert.deepEqual(c.entryPoint, ['timeout', '--foreground', '--signal=TERM', '--kill-after=60s', '7200s', 'node', '/app/dist/runner/cli.js']);
    assert.equal(c.linuxParameters.initProcessEnabled, true);
    assert.deepEqual(c.logConfiguration.options, { 'awslogs-group': '/lg', 'awslogs-region': 'eu-west-1', 'awslogs-stream-prefix': 'm-backup' });
  });
  it('ambiguous secret names: a trailing "-" and six characters reads as an ARN suffix', () => {
    assert.equal(ambiguousSecretName('orders-secret'), true);
    assert.equal(ambiguousSecretName('lifeboat-prod-orders-database-url'), false);
    assert.equal(ambiguousSecretName('x-url'), false);
  });
});

describe('taskStoppedPatterns', () => {
  /** EventBridge's matching for the operators used here: exact values and numeric anything-but. */
  function matches(pattern: unknown, event: unknown): boolean {
    if (Array.isArray(pattern)) {
      const values = Array.isArray(event) ? event : [event];
      return pattern.some((p) =>
        typeof p === 'object' && p !== null && 'anything-but' in p
          ? values.some((v) => v !== undefined && !(p['anything-but'] as unknown[]).includes(v))
          : values.includes(p),
      );
    }
    if (typeof pattern === 'object' && pattern !== null) {
      return Object.entries(pattern).every(([k, p]) => {
        const v = (event as Record<string, unknown> | undefined)?.[k];
        if (Array.isArray(v) && !Array.isArray(p)) return v.some((item) => matches(p, item));
        return v !== undefined && matches(p, v);
      });
    }
    return pattern === event;
  }
  const cluster = 'arn:aws:ecs:eu-west-1:1:cluster/c';
  const p = taskStoppedPatterns('runner');
  const event = (detail: Record<string, unknown>) => ({
    source: 'aws.ecs',
    'detail-type': 'ECS Task State Change',
    detail: { clusterArn: cluster, lastStatus: 'STOPPED', ...detail },
  });
  const cases: Array<[string, Record<string, unknown>, boolean, boolean]> = [
    ['failed to start (secret without a value)', { stopCode: 'TaskFailedToStart', containers: [{ name: 'runner' }] }, true, false],
    ['out of memory', { stopCode: 'EssentialContainerExited', containers: [{ name: 'runner', exitCode: 137 }] }, false, true],
    ['deadline', { stopCode: 'EssentialContainerExited', containers: [{ name: 'runner', exitCode: 124 }] }, false, true],
    ['runner failure (its event pages already)', { stopCode: 'EssentialContainerExited', containers: [{ name: 'runner', exitCode: 1 }] }, false, false],
    ['bad config (its event pages already)', { stopCode: 'EssentialContainerExited', containers: [{ name: 'runner', exitCode: 2 }] }, false, false],
    ['success', { stopCode: 'EssentialContainerExited', containers: [{ name: 'runner', exitCode: 0 }] }, false, false],
  ];
  for (const [what, detail, notStarted, killed] of cases) {
    it(`${what}: not-started ${notStarted}, killed ${killed}`, () => {
      assert.equal(matches(p['task-not-started'](cluster), event(detail)), notStarted);
      assert.equal(matches(p['task-killed'](cluster), event(detail)), killed);
    });
  }
  it('another cluster never matches', () => {
    const e = event({ stopCode: 'TaskFailedToStart' });
    assert.equal(matches(p['task-not-started']('arn:aws:ecs:eu-west-1:1:cluster/other'), e), false);
  });
});
