import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scratchDatabaseName, scratchPrefix } from '../../runner/drill/scratch';
import { formatDrillReport, formatSeconds, objective, type DrillReport } from '../../runner/drill/report';
import { newestFullBackup } from '../../runner/commands/drill';
import type { CompleteBackup } from '../../runner/catalog/catalog';

test('scratch names: maintenance databases mean the default prefix; other names are folded into a plain prefix', () => {
  const at = new Date('2026-11-21T02:00:00.123Z');
  assert.equal(scratchDatabaseName(scratchPrefix('postgres'), at, () => '3f9a'), 'lifeboat_drill_20261121t020000z_3f9a');
  assert.equal(scratchDatabaseName(scratchPrefix('orders_drill'), at, () => '0001'), 'orders_drill_20261121t020000z_0001');
  assert.match(scratchDatabaseName('p', at), /^p_20261121t020000z_[0-9a-f]{4}$/);
  const cases: [string, string][] = [['Orders-Prod', 'orders_prod'], ['shop.v2', 'shop_v2'], ['1abc', 'd_1abc'], ['--', 'lifeboat_drill'], ['Zoë', 'zo']];
  for (const [db, want] of cases) assert.equal(scratchPrefix(db), want, db);
  const long = scratchDatabaseName(scratchPrefix('x'.repeat(80)), at, () => 'abcd');
  assert.equal(long.length, 63);
  assert.match(long, /^x{41}_20261121t020000z_abcd$/);
});

test('objectives: no target never fails; a target fails when exceeded or when nothing was measured', () => {
  assert.deepEqual(objective(10, null), { seconds: 10, targetSeconds: null, ok: true });
  assert.deepEqual(objective(null, null), { seconds: null, targetSeconds: null, ok: true });
  assert.equal(objective(10, 10).ok, true);
  assert.equal(objective(10.001, 10).ok, false);
  assert.equal(objective(null, 10).ok, false);
});

test('formatSeconds', () => {
  const cases: [number | null, string][] = [[null, '-'], [4.24, '4.2s'], [75, '1m15s'], [3600, '1h00m'], [93784, '1d2h03m'], [172800, '2d0h00m']];
  for (const [s, want] of cases) assert.equal(formatSeconds(s), want, String(s));
});

function fake(id: string, kind: string, snapshotAt: string): CompleteBackup {
  return { id, manifest: { kind, snapshotAt } } as unknown as CompleteBackup;
}

test('RPO counts full backups only, by snapshot time', () => {
  const all = [
    fake('20261121T020000Z-0001', 'schema', '2026-11-21T02:00:00Z'),
    fake('20261120T020000Z-0002', 'full', '2026-11-20T02:00:00Z'),
    fake('20261119T020000Z-0003', 'tables', '2026-11-19T23:00:00Z'),
    fake('20261118T020000Z-0004', 'full', '2026-11-18T02:00:00Z'),
  ];
  assert.equal(newestFullBackup(all)!.id, '20261120T020000Z-0002');
  assert.equal(newestFullBackup(all.filter((b) => b.manifest.kind !== 'full')), null);
});

test('the readable report names the verdict, each check and the mismatching tables', () => {
  const report: DrillReport = {
    formatVersion: 1,
    engine: 'postgres',
    source: 'shop',
    startedAt: '2026-11-21T06:00:00.000Z',
    finishedAt: '2026-11-21T06:01:00.000Z',
    backup: { id: '20261121T020000Z-3f9a', class: 'daily', kind: 'full', snapshotAt: '2026-11-21T02:00:01.000Z', storedBytes: 100 },
    newestBackup: { id: '20261121T020000Z-3f9a', snapshotAt: '2026-11-21T02:00:01.000Z' },
    scratch: { server: 'db:5432', database: 'lifeboat_drill_20261121t060000z_0001', dropped: true },
    rpo: objective(14399, 86400),
    rto: objective(42, 1800),
    tables: [{ schema: 'sales', name: 'orders', expected: 2000, actual: 1993, ok: false }],
    amcheck: null,
    checks: [
      { name: 'restore', ok: true, detail: 'restored into the scratch database in 42s' },
      { name: 'row counts', ok: false, detail: '1 of 1 tables differ: sales.orders expected 2000, got 1993' },
    ],
    passed: false,
    reportKey: 'drills/postgres/shop/20261121T060000Z.json',
  };
  const text = formatDrillReport(report);
  assert.match(text, /^drill of shop: FAILED\n/);
  assert.match(text, /scratch {2}lifeboat_drill_20261121t060000z_0001 on db:5432 \(dropped\)/);
  assert.match(text, /^row counts {2}FAILED {2}1 of 1 tables differ/m);
  assert.match(text, /^restore {5}ok {6}restored/m);
  assert.match(text, /sales\.orders\s+2000\s+1993\s+MISMATCH/);
});
