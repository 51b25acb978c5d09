/**
 * Per-object locks and retention: each backup is locked for its own class's days from the run's start, and prune
 * never tries to delete a backup before its lock runs out (the store would refuse): planned as kept while the
 * manifest's lock holds, and a refusal the plan could not foresee (an incomplete backup's lock) leaves the backup
 * whole and is reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETENTION_DAYS } from '../../runner/contract/layout';
import { LifeboatError } from '../../runner/errors';
import { applyPrune, collectPruneItems } from '../../runner/retention/apply';
import { backupRetention, checkLockable } from '../../runner/retention/object-lock';
import { DEFAULT_POLICY, planPrune } from '../../runner/retention/plan';
import { OBJECT_LOCKED, type Storage } from '../../runner/storage/types';
import { tempStorage, writeFakeBackup } from './store';

const DAY = 86_400_000;
const policy = { mode: 'compliance' as const, days: { ...DEFAULT_RETENTION_DAYS, yearly: 3650 } };

test('each class is locked for its own days, counted from the run start', () => {
  const start = new Date('2026-01-01T02:00:00Z');
  assert.deepEqual(backupRetention(policy, 'yearly', start), { mode: 'compliance', retainUntil: new Date(start.getTime() + 3650 * DAY) });
  assert.deepEqual(backupRetention(policy, 'monthly', start)?.retainUntil, new Date(start.getTime() + 400 * DAY));
  assert.deepEqual(backupRetention(policy, 'daily', start)?.retainUntil, new Date('2026-01-08T02:00:00Z'));
  assert.equal(backupRetention(undefined, 'yearly', start), undefined, 'no mode: no lock');
});

test('a lock is refused on storage that cannot hold one, and allowed where it can', async () => {
  const { storage, cleanup } = await tempStorage();
  try {
    assert.throws(() => checkLockable(policy, storage), (e: unknown) => e instanceof LifeboatError && e.exitCode === 2 && /folder/.test(e.message));
    checkLockable(undefined, storage);
    checkLockable(policy, { ...storage, url: 's3://b', objectLock: true } as unknown as Storage);
  } finally {
    await cleanup();
  }
});

test('prune keeps a backup its class would delete while its manifest says it is locked, and lets it go after', async () => {
  const { storage, cleanup } = await tempStorage();
  try {
    // Eight daily backups: the oldest is beyond --keep-daily 7, but locked until the 20th.
    for (let d = 1; d <= 8; d++) {
      const id = `202611${String(d).padStart(2, '0')}T020000Z-000${d}`;
      await writeFakeBackup(storage, { cls: 'daily', id, lock: d === 1 ? { mode: 'governance', retainUntil: '2026-11-20T02:00:00.000Z' } : undefined });
    }
    const items = await collectPruneItems(storage);
    const before = planPrune(items, DEFAULT_POLICY, new Date('2026-11-10T00:00:00Z'));
    const oldest = before.find((d) => d.item.kind === 'complete' && d.item.id === '20261101T020000Z-0001')!;
    assert.equal(oldest.action, 'keep');
    assert.match(oldest.reason, /^locked until 2026-11-20T02:00:00.000Z \(daily of 2026-11-01, day #8 newest \(beyond the newest 7 days\)\)$/);
    const afterwards = planPrune(items, DEFAULT_POLICY, new Date('2026-11-20T02:00:01Z'));
    assert.equal(afterwards.find((d) => d.item.kind === 'complete' && d.item.id === '20261101T020000Z-0001')!.action, 'delete');
  } finally {
    await cleanup();
  }
});

test('a delete the store refuses for a lock leaves that backup whole, is reported, and the others still go', async () => {
  const { storage, cleanup } = await tempStorage();
  try {
    await writeFakeBackup(storage, { cls: 'daily', id: '20261101T020000Z-000a', incomplete: true });
    await writeFakeBackup(storage, { cls: 'daily', id: '20261102T020000Z-000b', incomplete: true });
    // A bucket's refusal, as the backends report it, for the first backup's objects only.
    const locking: Storage = Object.assign(Object.create(storage) as Storage, {
      delete: async (key: string) => {
        if (key.includes('000a')) throw new LifeboatError(OBJECT_LOCKED, `refused to delete ${key}: under retention`);
        await storage.delete(key);
      },
    });
    const decisions = planPrune(await collectPruneItems(locking), DEFAULT_POLICY, new Date('2026-11-10T00:00:00Z'));
    assert.equal(decisions.filter((d) => d.action === 'delete').length, 2);
    const r = await applyPrune(locking, decisions);
    assert.deepEqual(r.locked, ['daily/postgres/shop/20261101T020000Z-000a/']);
    assert.equal(r.deletedBackups, 1);
    const left: string[] = [];
    for await (const o of storage.list('daily/')) left.push(o.key);
    assert.deepEqual(left, ['daily/postgres/shop/20261101T020000Z-000a/dump.pgc.zst']);
  } finally {
    await cleanup();
  }
});
