import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseClass, chooseScheduledClass, isoWeek, type DatedBackup } from '../../runner/retention/classify';

const d = (s: string): Date => new Date(s);

test('ISO weeks: 2026-01-01 is in 2026-W1, 2027-01-01 (a Friday) in 2026-W53', () => {
  assert.deepEqual(isoWeek(d('2026-01-01T00:00:00Z')), { year: 2026, week: 1 });
  assert.deepEqual(isoWeek(d('2027-01-01T12:00:00Z')), { year: 2026, week: 53 });
  assert.deepEqual(isoWeek(d('2026-11-21T02:00:00Z')), { year: 2026, week: 47 });
});

const cases: { name: string; now: string; existing: [DatedBackup['cls'], string][]; want: string }[] = [
  { name: 'first backup ever is yearly', now: '2026-11-21T02:00:00Z', existing: [], want: 'yearly' },
  { name: 'yearly done this year, none this month: monthly', now: '2026-11-21T02:00:00Z', existing: [['yearly', '2026-01-01T02:00:00Z']], want: 'monthly' },
  { name: 'a yearly backup this month covers the month and the week', now: '2026-01-02T02:00:00Z', existing: [['yearly', '2026-01-01T02:00:00Z']], want: 'daily' },
  { name: 'month covered, new ISO week: weekly', now: '2026-11-23T02:00:00Z', existing: [['yearly', '2026-01-01T02:00:00Z'], ['monthly', '2026-11-01T02:00:00Z'], ['daily', '2026-11-22T02:00:00Z']], want: 'weekly' },
  { name: 'everything covered: daily', now: '2026-11-24T02:00:00Z', existing: [['yearly', '2026-01-01T02:00:00Z'], ['monthly', '2026-11-01T02:00:00Z'], ['weekly', '2026-11-23T02:00:00Z']], want: 'daily' },
  { name: 'manual backups never count', now: '2026-11-24T02:00:00Z', existing: [['manual', '2026-11-24T01:00:00Z']], want: 'yearly' },
  { name: 'last year\'s yearly does not cover this year', now: '2027-01-01T02:00:00Z', existing: [['yearly', '2026-01-01T02:00:00Z'], ['daily', '2026-12-31T02:00:00Z']], want: 'yearly' },
  { name: 'daily backups do not cover a week', now: '2026-11-25T02:00:00Z', existing: [['yearly', '2026-01-01T02:00:00Z'], ['monthly', '2026-11-01T02:00:00Z'], ['daily', '2026-11-24T02:00:00Z']], want: 'weekly' },
];

for (const c of cases) {
  test(`chooseScheduledClass: ${c.name}`, () => {
    const existing = c.existing.map(([cls, at]) => ({ cls, at: d(at) }));
    assert.equal(chooseScheduledClass(d(c.now), existing), c.want);
  });
}

test('--class manual forces manual', () => {
  assert.equal(chooseClass(d('2026-11-21T02:00:00Z'), [], 'manual'), 'manual');
});

test('with a kind, only backups of that kind take a period: a schema-only yearly does not make the full backup daily', () => {
  const existing: DatedBackup[] = [{ cls: 'yearly', at: d('2026-01-01T01:00:00Z'), kind: 'schema' }];
  assert.equal(chooseClass(d('2026-01-01T02:00:00Z'), existing, undefined, 'full'), 'yearly');
  assert.equal(chooseClass(d('2026-01-01T02:00:00Z'), existing, undefined, 'schema'), 'daily');
  // Without a kind (callers that do not say), every backup counts, as before.
  assert.equal(chooseClass(d('2026-01-01T02:00:00Z'), existing), 'daily');
});
