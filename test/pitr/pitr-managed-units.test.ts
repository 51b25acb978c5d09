/** The pure parts of managed PITR: drill clone names, the window check, the settings an RDS copy takes over, Cloud SQL names. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTargetInWindow, drillCloneName, drillCloneStartedAt } from '../../runner/pitr/managed';
import { carriedSettings } from '../../runner/pitr/rds';
import { labelValue, parseCloudSqlInstance } from '../../runner/pitr/cloudsql';
import { CLOUDSQL_INSTANCE, RDS_IDENTIFIER } from '../../runner/cli/pitr-managed';
import type { LifeboatError } from '../../runner/errors';

test('drill clone names: prefix, a safe source, the start to the second; valid RDS and Cloud SQL names; the start reads back', () => {
  const at = new Date('2026-12-07T14:31:05.123Z');
  assert.equal(drillCloneName('shop', at), 'lifeboat-drill-shop-20261207t143105z');
  assert.equal(drillCloneName('Shop_DB.eu', at), 'lifeboat-drill-shop-db-eu-20261207t143105z');
  const long = drillCloneName('a'.repeat(80), at);
  assert.equal(long.length, 63);
  for (const n of [drillCloneName('shop', at), drillCloneName('Shop_DB.eu', at), long, drillCloneName('--', at)]) {
    assert.match(n, RDS_IDENTIFIER, n);
    assert.match(n, CLOUDSQL_INSTANCE, n);
    assert.equal(drillCloneStartedAt(n)?.toISOString(), '2026-12-07T14:31:05.000Z', n);
  }
  assert.equal(drillCloneStartedAt('shop-20261207t143105z'), null, 'not a drill clone');
  assert.equal(drillCloneStartedAt('lifeboat-drill-shop'), null);
});

test('a target outside the window is a usage error naming the window and where it comes from', () => {
  const w = { earliest: new Date('2026-12-01T00:00:00Z'), latest: new Date('2026-12-07T14:55:00Z'), latestReported: true, basis: 'backup retention 7 days' };
  checkTargetInWindow(new Date('2026-12-07T14:31:00Z'), w, '--to-time', 'RDS instance shop');
  checkTargetInWindow(w.earliest, w, '--to-time', 'RDS instance shop');
  checkTargetInWindow(w.latest, w, '--to-time', 'RDS instance shop');
  for (const [t, side] of [['2026-11-30T23:59:59Z', 'before'], ['2026-12-07T14:56:00Z', 'after']] as const) {
    assert.throws(
      () => checkTargetInWindow(new Date(t), w, '--to-time', 'RDS instance shop'),
      (e: LifeboatError) =>
        e.exitCode === 2 &&
        e.code === 'target_time_outside_window' &&
        e.message === `--to-time ${new Date(t).toISOString()} is ${side} the recoverable window of RDS instance shop, which is 2026-12-01T00:00:00.000Z to 2026-12-07T14:55:00.000Z (backup retention 7 days)`,
    );
  }
});

test('an RDS copy takes over network, groups, class, Multi-AZ and storage; defaults and absent values are left to RDS', () => {
  const s = carriedSettings({
    DBInstanceIdentifier: 'shop',
    DBInstanceClass: 'db.r6g.large',
    MultiAZ: true,
    DBSubnetGroup: { DBSubnetGroupName: 'private' },
    VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-1' }, { VpcSecurityGroupId: 'sg-2' }],
    DBParameterGroups: [{ DBParameterGroupName: 'shop-pg16' }],
    OptionGroupMemberships: [{ OptionGroupName: 'default:postgres-16' }],
    StorageType: 'io2',
    AllocatedStorage: 400,
    Iops: 12000,
    Endpoint: { Address: 'shop.x.rds.amazonaws.com', Port: 5433 },
    PubliclyAccessible: false,
  });
  assert.deepEqual(s, {
    DBInstanceClass: 'db.r6g.large',
    MultiAZ: true,
    DBSubnetGroupName: 'private',
    VpcSecurityGroupIds: ['sg-1', 'sg-2'],
    DBParameterGroupName: 'shop-pg16',
    StorageType: 'io2',
    AllocatedStorage: 400,
    Iops: 12000,
    Port: 5433,
    PubliclyAccessible: false,
  });
});

test("gp3's baseline IOPS and throughput are not sent below 400 GiB (RDS refuses them there), nor for gp2", () => {
  const base = { DBInstanceClass: 'db.t4g.medium', Iops: 3000, StorageThroughput: 125 };
  assert.deepEqual(carriedSettings({ ...base, StorageType: 'gp3', AllocatedStorage: 20 }), { DBInstanceClass: 'db.t4g.medium', StorageType: 'gp3', AllocatedStorage: 20 });
  assert.deepEqual(carriedSettings({ ...base, StorageType: 'gp3', AllocatedStorage: 500, Iops: 12000, StorageThroughput: 500 }), {
    DBInstanceClass: 'db.t4g.medium',
    StorageType: 'gp3',
    AllocatedStorage: 500,
    Iops: 12000,
    StorageThroughput: 500,
  });
  assert.deepEqual(carriedSettings({ ...base, StorageType: 'gp2', AllocatedStorage: 100 }), { DBInstanceClass: 'db.t4g.medium', StorageType: 'gp2', AllocatedStorage: 100 });
});

test('Cloud SQL: PROJECT:INSTANCE (or a connection name) and label values', () => {
  assert.deepEqual(parseCloudSqlInstance('--cloudsql', 'acme-prod:shop'), { project: 'acme-prod', instance: 'shop' });
  assert.deepEqual(parseCloudSqlInstance('--cloudsql', 'acme-prod:europe-west1:shop'), { project: 'acme-prod', instance: 'shop' });
  for (const bad of ['shop', 'acme:Shop', ':shop', 'acme:', 'a:b:c:d']) {
    assert.throws(() => parseCloudSqlInstance('--cloudsql', bad), (e: LifeboatError) => e.exitCode === 2 && e.message.startsWith('--cloudsql expected PROJECT:INSTANCE'), bad);
  }
  assert.equal(labelValue('acme-prod:shop'), 'acme-prod-shop');
  assert.equal(labelValue('2026-12-07T14:31:00.000Z'), '2026-12-07t14-31-00-000z');
});
