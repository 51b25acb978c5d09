/**
 * A year of simulated daily runs with gaps and failures, classified by chooseClass exactly as the backup
 * command does (a failed run leaves a payload without manifest: an incomplete backup that does not count for
 * the calendar), then pruned by the pure planner: exactly these backups survive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseClass } from '../../runner/retention/classify';
import { newBackupId, type BackupClass } from '../../runner/contract/layout';
import { DEFAULT_POLICY, planPrune, type CompleteItem, type IncompleteItem, type PruneItem, type RetentionPolicy } from '../../runner/retention/plan';

const DAY = 86_400_000;

interface Calendar {
  from: string;
  to: string;
  /** Days (YYYY-MM-DD) with no run at all (the job did not start). */
  gaps?: string[];
  /** Days whose run failed after writing the payload (no manifest). */
  failures?: string[];
  /** Ad-hoc backups at these instants. */
  manual?: string[];
  /** Prune with this policy after every run, as a scheduled prune job would. */
  pruneDaily?: RetentionPolicy;
  /** Times of day (UTC, HH:MM) of the scheduled runs; default one run at 02:00. */
  times?: string[];
  /** Run days instead of every day from `from` to `to`. */
  days?: string[];
}

function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

function simulate(cal: Calendar, source = 'shop'): PruneItem[] {
  let items: PruneItem[] = [];
  const manual = [...(cal.manual ?? [])].sort();
  const runs = (cal.days ?? daysBetween(cal.from, cal.to)).flatMap((day) => (cal.times ?? ['02:00']).map((t) => [day, t] as const));
  for (const [day, time] of runs) {
    const now = new Date(`${day}T${time}:00Z`);
    while (manual.length && manual[0]! < now.toISOString()) {
      const at = new Date(manual.shift()!);
      items.push({ kind: 'complete', cls: 'manual', engine: 'postgres', source, id: newBackupId(at, () => 'ffff'), at });
    }
    if (cal.gaps?.includes(day)) continue;
    const existing = items.filter((i): i is CompleteItem => i.kind === 'complete').map((i) => ({ cls: i.cls, at: i.at }));
    const cls = chooseClass(now, existing);
    const id = newBackupId(now, () => '0000');
    if (cal.failures?.includes(day)) {
      const lastModified = new Date(now.getTime() + 5 * 60_000);
      items.push({ kind: 'incomplete', cls, engine: 'postgres', source, id, lastModified, why: 'no manifest' } satisfies IncompleteItem);
    } else {
      items.push({ kind: 'complete', cls, engine: 'postgres', source, id, at: now } satisfies CompleteItem);
    }
    if (cal.pruneDaily) {
      const decisions = planPrune(items, cal.pruneDaily, new Date(now.getTime() + 3600_000));
      const deleted = new Set(decisions.filter((d) => d.action === 'delete').map((d) => d.item));
      items = items.filter((i) => !deleted.has(i));
    }
  }
  for (const m of manual) {
    const at = new Date(m);
    items.push({ kind: 'complete', cls: 'manual', engine: 'postgres', source, id: newBackupId(at, () => 'ffff'), at });
  }
  return items;
}

/** Survivors as "class day" strings, sorted, for readable diffs. */
function survivors(items: PruneItem[], policy: RetentionPolicy, now: string, withTimes = false): string[] {
  return planPrune(items, policy, new Date(now))
    .filter((d) => d.action === 'keep')
    .map((d) => {
      const i = d.item;
      if (i.kind === 'partial') return `partial ${i.file}`;
      const day = `${i.id.slice(0, 4)}-${i.id.slice(4, 6)}-${i.id.slice(6, 8)}`;
      const time = withTimes ? ` ${i.id.slice(9, 11)}:${i.id.slice(11, 13)}` : '';
      return `${i.kind === 'incomplete' ? 'incomplete ' : ''}${i.cls} ${day}${time}`;
    })
    .sort();
}

const YEAR_2026: Calendar = {
  from: '2026-01-01',
  to: '2026-12-31',
  // No runs for five days in March (the month's first backup is then the 6th) and four days before Christmas.
  gaps: ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-12-20', '2026-12-21', '2026-12-22', '2026-12-23'],
  // 1 December failed, so December's monthly is the 2nd; the 28th (a Monday) failed, so that week's weekly is the
  // 29th; the run of the 31st "failed" less than a day before the prune (it may still be running).
  failures: ['2026-06-15', '2026-12-01', '2026-12-28', '2026-12-31'],
  manual: ['2026-10-01T15:00:00Z', '2026-11-15T09:30:00Z'],
};

const EXPECTED_2026 = [
  'yearly 2026-01-01',
  // Monthly: the first complete backup of every month after January (the yearly one covers January).
  'monthly 2026-02-01', 'monthly 2026-03-06', 'monthly 2026-04-01', 'monthly 2026-05-01', 'monthly 2026-06-01',
  'monthly 2026-07-01', 'monthly 2026-08-01', 'monthly 2026-09-01', 'monthly 2026-10-01', 'monthly 2026-11-01',
  'monthly 2026-12-02',
  // Weekly: the newest four (ISO weeks of 7, 14, 21 and 28 December; 30 November's is the fifth and goes).
  'weekly 2026-12-07', 'weekly 2026-12-14', 'weekly 2026-12-24', 'weekly 2026-12-29',
  // Daily: the newest seven daily-class backups; the gap pushes the seventh back to the 17th.
  'daily 2026-12-17', 'daily 2026-12-18', 'daily 2026-12-19', 'daily 2026-12-25', 'daily 2026-12-26',
  'daily 2026-12-27', 'daily 2026-12-30',
  // Manual: 47 days old stays, 92 days old goes.
  'manual 2026-11-15',
  // The failed run of the 31st is 23 hours old: it may still be running.
  'incomplete daily 2026-12-31',
].sort();

test('a year of daily runs with gaps and failures: exactly these backups survive the default policy', () => {
  const items = simulate(YEAR_2026);
  assert.deepEqual(survivors(items, DEFAULT_POLICY, '2027-01-01T01:00:00Z'), EXPECTED_2026);
});

test('pruning after every run leaves exactly what one prune at the end leaves', () => {
  const items = simulate({ ...YEAR_2026, pruneDaily: DEFAULT_POLICY });
  assert.deepEqual(survivors(items, DEFAULT_POLICY, '2027-01-01T01:00:00Z'), EXPECTED_2026);
});

test('the failed runs of 15 June, 1 and 28 December are deleted as leftovers; each reason says why', () => {
  const decisions = planPrune(simulate(YEAR_2026), DEFAULT_POLICY, new Date('2027-01-01T01:00:00Z'));
  const incomplete = decisions.filter((d) => d.item.kind === 'incomplete');
  assert.deepEqual(
    incomplete.map((d) => [d.item.kind !== 'partial' && d.item.id.slice(0, 8), d.action]),
    [['20261231', 'keep'], ['20261228', 'delete'], ['20261201', 'delete'], ['20260615', 'delete']],
  );
  assert.match(incomplete[0]!.reason, /may still be running/);
  assert.match(incomplete[1]!.reason, /leftover/);
  const old = decisions.find((d) => d.item.kind === 'complete' && d.item.cls === 'daily' && d.action === 'delete');
  assert.match(old!.reason, /beyond the newest 7/);
});

interface SmallCase {
  name: string;
  calendar: Calendar;
  policy?: Partial<RetentionPolicy>;
  now: string;
  want: string[];
}

const SMALL_CASES: SmallCase[] = [
  {
    name: 'the schedule stopped months ago: counts keep the last backups (an age rule would have deleted them)',
    calendar: { from: '2026-01-01', to: '2026-01-10' },
    now: '2026-09-01T00:00:00Z',
    // 1 Jan (Thursday) yearly, 2-4 daily, 5 Jan (Monday) weekly, 6-10 daily: eight dailies, the oldest goes.
    want: ['yearly 2026-01-01', 'weekly 2026-01-05', 'daily 2026-01-03', 'daily 2026-01-04', 'daily 2026-01-06',
      'daily 2026-01-07', 'daily 2026-01-08', 'daily 2026-01-09', 'daily 2026-01-10'],
  },
  {
    name: 'keep counts of zero still keep the newest complete backup of the source',
    calendar: { from: '2026-02-01', to: '2026-02-03' },
    policy: { keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0 },
    now: '2026-02-04T00:00:00Z',
    want: ['daily 2026-02-03'],
  },
  {
    name: 'only old manual backups: the newest one is kept anyway, the older goes',
    calendar: { from: '2026-06-01', to: '2026-05-31', manual: ['2025-01-01T10:00:00Z', '2025-02-01T10:00:00Z'] },
    now: '2026-06-01T00:00:00Z',
    want: ['manual 2025-02-01'],
  },
  {
    name: 'every run failed: nothing complete, the young leftover stays, the old ones go',
    calendar: { from: '2026-04-01', to: '2026-04-03', failures: ['2026-04-01', '2026-04-02', '2026-04-03'] },
    now: '2026-04-03T12:00:00Z',
    want: ['incomplete yearly 2026-04-03'],
  },
];

for (const c of SMALL_CASES) {
  test(`prune plan: ${c.name}`, () => {
    const items = simulate(c.calendar);
    assert.deepEqual(survivors(items, { ...DEFAULT_POLICY, ...c.policy }, c.now), [...c.want].sort());
  });
}

test('sources are pruned independently: each keeps its own newest seven dailies', () => {
  const cal: Calendar = { from: '2026-03-02', to: '2026-03-20' };
  const items = [...simulate(cal, 'shop'), ...simulate(cal, 'billing')];
  const decisions = planPrune(items, DEFAULT_POLICY, new Date('2026-03-21T00:00:00Z'));
  for (const source of ['shop', 'billing']) {
    const kept = decisions.filter((d) => d.action === 'keep' && d.item.kind === 'complete' && d.item.source === source);
    const byClass = (cls: BackupClass): number => kept.filter((d) => d.item.kind === 'complete' && d.item.cls === cls).length;
    assert.equal(byClass('daily'), 7, source);
    assert.equal(byClass('weekly'), 2, source);
    assert.equal(byClass('yearly'), 1, source);
  }
});

test('a negative or fractional count is refused with the key named', () => {
  assert.throws(() => planPrune([], { ...DEFAULT_POLICY, keepDaily: -1 }, new Date()), /keepDaily expected a whole number >= 0, got -1/);
  assert.throws(() => planPrune([], { ...DEFAULT_POLICY, keepManualDays: 1.5 }, new Date()), /keepManualDays/);
});

test('four runs a day: --keep-daily 7 keeps every daily backup of the newest 7 days, not the newest 7 backups', () => {
  const items = simulate({ from: '2026-03-01', to: '2026-03-20', times: ['02:00', '08:00', '14:00', '20:00'] });
  // 1 March (a Sunday, the first run ever) 02:00 is yearly; the Mondays' 02:00 runs (2, 9, 16 March) are weekly;
  // every other run is daily. The newest seven days with daily backups are 14 to 20 March; 16 March has three.
  const daily: string[] = [];
  for (const day of [14, 15, 16, 17, 18, 19, 20]) {
    for (const t of day === 16 ? ['08:00', '14:00', '20:00'] : ['02:00', '08:00', '14:00', '20:00']) daily.push(`daily 2026-03-${day} ${t}`);
  }
  const want = ['yearly 2026-03-01 02:00', 'weekly 2026-03-02 02:00', 'weekly 2026-03-09 02:00', 'weekly 2026-03-16 02:00', ...daily].sort();
  assert.deepEqual(survivors(items, DEFAULT_POLICY, '2026-03-21T00:00:00Z', true), want);
});

test('ten years of runs on the 1st and 15th: the newest 7 years, 12 months and 4 weeks survive, not one more or less', () => {
  const days: string[] = [];
  for (let y = 2017; y <= 2026; y++) for (let m = 1; m <= 12; m++) for (const d of ['01', '15']) days.push(`${y}-${String(m).padStart(2, '0')}-${d}`);
  // Each year: 1 January yearly, the 1st of every other month monthly, every 15th weekly (a new ISO week, the month
  // already covered); no dailies.
  const want = [
    ...[2020, 2021, 2022, 2023, 2024, 2025, 2026].map((y) => `yearly ${y}-01-01`),
    'monthly 2025-12-01',
    ...['02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'].map((m) => `monthly 2026-${m}-01`),
    'weekly 2026-09-15', 'weekly 2026-10-15', 'weekly 2026-11-15', 'weekly 2026-12-15',
  ].sort();
  const items = simulate({ from: '', to: '', days });
  assert.equal(items.length, 240);
  assert.deepEqual(survivors(items, DEFAULT_POLICY, '2027-01-01T00:00:00Z'), want);
  // One more of each kept with counts one higher; one fewer with counts one lower.
  const more = survivors(items, { ...DEFAULT_POLICY, keepYearly: 8, keepMonthly: 13, keepWeekly: 5 }, '2027-01-01T00:00:00Z');
  assert.deepEqual(more, [...want, 'yearly 2019-01-01', 'monthly 2025-11-01', 'weekly 2026-08-15'].sort());
  const fewer = survivors(items, { ...DEFAULT_POLICY, keepYearly: 6, keepMonthly: 11, keepWeekly: 3 }, '2027-01-01T00:00:00Z');
  assert.deepEqual(fewer, want.filter((w) => !['yearly 2020-01-01', 'monthly 2025-12-01', 'weekly 2026-09-15'].includes(w)));
});

test('an incomplete backup is left alone until it is a whole day old, then deleted', () => {
  const lastModified = new Date('2026-05-01T02:00:00Z');
  const item: IncompleteItem = { kind: 'incomplete', cls: 'daily', engine: 'postgres', source: 'shop', id: '20260501T020000Z-0001', lastModified, why: 'no manifest' };
  const at = (iso: string): string => planPrune([item], DEFAULT_POLICY, new Date(iso))[0]!.action;
  assert.equal(at('2026-05-02T01:59:59Z'), 'keep');
  assert.equal(at('2026-05-02T02:00:00Z'), 'delete');
});

test('a manual backup is kept for exactly --keep-manual-days days', () => {
  const older: CompleteItem = { kind: 'complete', cls: 'manual', engine: 'postgres', source: 'shop', id: '20260101T000000Z-0001', at: new Date('2026-01-01T00:00:00Z') };
  const newest: CompleteItem = { ...older, cls: 'daily', id: '20260601T000000Z-0002', at: new Date('2026-06-01T00:00:00Z') };
  const at = (iso: string): string => planPrune([older, newest], DEFAULT_POLICY, new Date(iso)).find((d) => d.item === older)!.action;
  assert.equal(at('2026-04-01T00:00:00Z'), 'keep'); // 90 days
  assert.equal(at('2026-04-01T00:00:01Z'), 'delete');
});

test('counts of zero keep the newest backup and the newest full one, even when a schema-only backup is newer', () => {
  const full = (id: string, at: string): CompleteItem => ({ kind: 'complete', cls: 'daily', engine: 'postgres', source: 'shop', id, at: new Date(at), backupKind: 'full' });
  const items: PruneItem[] = [
    full('20260201T020000Z-0001', '2026-02-01T02:00:00Z'),
    full('20260202T020000Z-0002', '2026-02-02T02:00:00Z'),
    { kind: 'complete', cls: 'daily', engine: 'postgres', source: 'shop', id: '20260203T020000Z-0003', at: new Date('2026-02-03T02:00:00Z'), backupKind: 'schema' },
  ];
  const zero = { ...DEFAULT_POLICY, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0 };
  const decisions = planPrune(items, zero, new Date('2026-02-04T00:00:00Z'));
  assert.deepEqual(decisions.map((d) => [d.item.kind !== 'partial' && d.item.id.slice(-4), d.action]), [['0003', 'keep'], ['0002', 'keep'], ['0001', 'delete']]);
  assert.match(decisions[1]!.reason, /newest complete full backup of postgres\/shop/);
});
