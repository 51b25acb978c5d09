// The pure builders of the DR path, as tables: ECR image references (the digest the DR region can pull) and the
// plan of a DR stack's restores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ecrImageInRegion, ecrReplicationRules, parseEcrImage, pinnedByDigest } from '../../../infra/aws/ecrImage';
import { NEVER_SCHEDULE, recoveryTasks } from '../../../infra/shared/recoveryPlan';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

test('ECR image references: parsed, pinned or not, and the same image in another region', () => {
  const cases: Array<[string, ReturnType<typeof parseEcrImage>, boolean, string | undefined]> = [
    [`123456789012.dkr.ecr.eu-west-1.amazonaws.com/lifeboat@${DIGEST}`, { account: '123456789012', region: 'eu-west-1', repository: 'lifeboat', digest: DIGEST }, true, `123456789012.dkr.ecr.eu-central-1.amazonaws.com/lifeboat@${DIGEST}`],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com/team/lifeboat:1.4', { account: '123456789012', region: 'us-east-1', repository: 'team/lifeboat', tag: '1.4' }, false, '123456789012.dkr.ecr.eu-central-1.amazonaws.com/team/lifeboat:1.4'],
    [`ghcr.io/example/lifeboat@${DIGEST}`, undefined, true, undefined],
    ['europe-docker.pkg.dev/acme/lifeboat/runner:latest', undefined, false, undefined],
    [`123456789012.dkr.ecr.eu-west-1.amazonaws.com/lifeboat@sha256:abc`, undefined, false, undefined],
  ];
  for (const [image, parsed, pinned, inDr] of cases) {
    assert.deepEqual(parseEcrImage(image), parsed, image);
    assert.equal(pinnedByDigest(image), pinned, image);
    assert.equal(ecrImageInRegion(image, 'eu-central-1'), inDr, image);
  }
});

test('the replication rule copies one repository into the DR region of the same account', () => {
  assert.deepEqual(ecrReplicationRules('123456789012', 'lifeboat', 'eu-central-1'), {
    rules: [{ destinations: [{ region: 'eu-central-1', registryId: '123456789012' }], repositoryFilters: [{ filter: 'lifeboat', filterType: 'PREFIX_MATCH' }] }],
  });
});

test('the recovery plan: restore --create --roles per database, redis restore per Redis source, secrets only by reference', () => {
  const cases: Array<[string, Parameters<typeof recoveryTasks>[0], Array<[string, string[], Record<string, string>]>]> = [
    [
      'a database and a Redis source, encrypted',
      { storageUrl: 's3://dr/k8s', ageIdentitySecret: 'age', databases: [{ name: 'orders', targetUrlSecret: 'orders-url' }], redis: [{ name: 'cache', targetUrlSecret: 'cache-url' }], timeoutSeconds: 60 },
      [
        ['orders-restore', ['restore', 'latest', '--create', '--roles'], { LIFEBOAT_TARGET_URL: 'orders-url', LIFEBOAT_AGE_IDENTITY: 'age' }],
        ['cache-redis-restore', ['redis', 'restore', 'latest'], { LIFEBOAT_REDIS_URL: 'cache-url', LIFEBOAT_AGE_IDENTITY: 'age' }],
      ],
    ],
    ['Redis only, not encrypted', { storageUrl: 's3://dr', databases: [], redis: [{ name: 'cache', targetUrlSecret: 'u' }], timeoutSeconds: 60 }, [['cache-redis-restore', ['redis', 'restore', 'latest'], { LIFEBOAT_REDIS_URL: 'u' }]]],
  ];
  for (const [what, input, expected] of cases) {
    const tasks = recoveryTasks(input);
    assert.deepEqual(tasks.map((t) => [t.id, t.args, t.secretEnv]), expected, what);
    for (const t of tasks) {
      assert.equal(t.identity, 'drill', 'the reader');
      assert.equal(t.schedule, NEVER_SCHEDULE);
      assert.equal(t.env.LIFEBOAT_STORAGE, input.storageUrl);
      assert.equal(t.env.LIFEBOAT_SOURCE, t.source);
    }
  }
  assert.throws(
    () => recoveryTasks({ storageUrl: 's3://x', databases: [{ name: 'a-redis', targetUrlSecret: 'x' }, { name: 'a', targetUrlSecret: 'y' }], redis: [{ name: 'a', targetUrlSecret: 'z' }], timeoutSeconds: 1 }),
    /two recovery tasks/,
  );
});
