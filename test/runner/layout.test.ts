import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backupIdTime, manifestKey, newBackupId, parseBackupKey } from '../../runner/contract/layout';

test('backup ids sort by time and round-trip their timestamp', () => {
  const a = newBackupId(new Date('2026-11-21T02:00:00.123Z'), () => '3f9a');
  assert.equal(a, '20261121T020000Z-3f9a');
  assert.equal(backupIdTime(a).toISOString(), '2026-11-21T02:00:00.000Z');
  const b = newBackupId(new Date('2026-11-21T02:00:01Z'), () => '0000');
  assert.ok(a < b);
});

test('manifest keys parse back into their parts', () => {
  const key = manifestKey('weekly', 'postgres', 'shop', '20261121T020000Z-3f9a');
  assert.equal(key, 'weekly/postgres/shop/20261121T020000Z-3f9a/manifest.json');
  assert.deepEqual(parseBackupKey(key), {
    cls: 'weekly', engine: 'postgres', source: 'shop', id: '20261121T020000Z-3f9a', name: 'manifest.json',
  });
  assert.equal(parseBackupKey('drills/postgres/shop/20261121T020000Z.json'), null);
  assert.equal(parseBackupKey('hourly/postgres/shop/20261121T020000Z-3f9a/manifest.json'), null);
});
