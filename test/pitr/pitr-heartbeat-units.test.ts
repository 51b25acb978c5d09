/** The drills' heartbeat checks against a restored database, on a stand-in client that holds only heartbeat ids. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from 'pg';
import { checkRestoredHeartbeats, type Heartbeat, type HeartbeatsAround } from '../../runner/pitr/heartbeat';

const BEFORE: Heartbeat = { id: '7', at: new Date('2026-12-07T14:30:58.000Z') };
const AFTER: Heartbeat = { id: '8', at: new Date('2026-12-07T14:31:02.000Z') };

/**
 * A restored database that answers the two queries the check makes: whether the heartbeat table exists, and whether
 * it holds an id. `ids` null: no table at all. Anything else it is asked is a failure of the test.
 */
function restoredDb(ids: string[] | null): { query: (sql: string, values?: unknown[]) => Promise<{ rows: unknown[]; rowCount: number }>; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    query: async (sql: string, values?: unknown[]) => {
      asked.push(sql);
      if (sql.includes('to_regclass')) return { rows: [{ t: ids ? 'lifeboat.heartbeat' : null }], rowCount: 1 };
      if (sql.includes('WHERE id = $1')) {
        const n = ids?.includes(String(values?.[0])) ? 1 : 0;
        return { rows: n ? [{ '?column?': 1 }] : [], rowCount: n };
      }
      throw new Error(`unexpected query: ${sql}`);
    },
  };
}

// pg's `query` has many overloads; the stand-in answers the one form the check uses.
const check = (db: ReturnType<typeof restoredDb>, around: HeartbeatsAround | null) => checkRestoredHeartbeats(db as unknown as Pick<Client, 'query'>, around);

test('the heartbeat before the target is in the restored database and the one after is not: both checks pass', async () => {
  assert.deepEqual(await check(restoredDb(['6', '7']), { before: BEFORE, after: AFTER }), [
    { name: 'heartbeat before', ok: true, detail: 'heartbeat 7 of 2026-12-07T14:30:58.000Z is there' },
    { name: 'heartbeat after', ok: true, detail: 'heartbeat 8 of 2026-12-07T14:31:02.000Z is absent' },
  ]);
});

test('the heartbeat before the target missing from the restored database fails "heartbeat before", naming it', async () => {
  const expected = [
    { name: 'heartbeat before', ok: false, detail: 'heartbeat 7 of 2026-12-07T14:30:58.000Z is MISSING' },
    { name: 'heartbeat after', ok: true, detail: 'heartbeat 8 of 2026-12-07T14:31:02.000Z is absent' },
  ];
  assert.deepEqual(await check(restoredDb(['6']), { before: BEFORE, after: AFTER }), expected);
  // Restored from before the table was made: the table itself is missing.
  assert.deepEqual(await check(restoredDb(null), { before: BEFORE, after: AFTER }), expected);
});

test('the heartbeat after the target present in the restored database fails "heartbeat after", naming it', async () => {
  assert.deepEqual(await check(restoredDb(['7', '8']), { before: BEFORE, after: AFTER }), [
    { name: 'heartbeat before', ok: true, detail: 'heartbeat 7 of 2026-12-07T14:30:58.000Z is there' },
    { name: 'heartbeat after', ok: false, detail: 'heartbeat 8 of 2026-12-07T14:31:02.000Z is there but was written after the target' },
  ]);
});

test('no heartbeats recorded: no table on the source, or none on a side of the target, passes with a note and asks nothing', async () => {
  const noTable = restoredDb(['7', '8']);
  const note = 'no lifeboat.heartbeat table on the source: run "lifeboat pitr heartbeat" on a schedule to check the point exactly';
  assert.deepEqual(await check(noTable, null), [
    { name: 'heartbeat before', ok: true, detail: note },
    { name: 'heartbeat after', ok: true, detail: note },
  ]);
  assert.deepEqual(noTable.asked, []);

  const none = restoredDb([]);
  assert.deepEqual(await check(none, { before: null, after: null }), [
    { name: 'heartbeat before', ok: true, detail: 'no heartbeat before the target on the source' },
    { name: 'heartbeat after', ok: true, detail: 'no heartbeat after the target on the source yet' },
  ]);
  assert.deepEqual(none.asked, []);

  // Only one side recorded: the other passes, the recorded one is still checked.
  assert.deepEqual(await check(restoredDb([]), { before: BEFORE, after: null }), [
    { name: 'heartbeat before', ok: false, detail: 'heartbeat 7 of 2026-12-07T14:30:58.000Z is MISSING' },
    { name: 'heartbeat after', ok: true, detail: 'no heartbeat after the target on the source yet' },
  ]);
});
