/** `lifeboat status` on a real local storage: per-source age and size checks, JSON, exit codes, final event. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../runner/cli/main';
import { parseBytes, parseDuration } from '../../runner/cli/options';
import type { HealthReport } from '../../runner/commands/status';
import type { LocalStorage } from '../../runner/storage/local';
import { capturedContext, tempStorage, writeFakeBackup } from '../retention/store';

const NOW = new Date('2026-11-21T12:00:00Z');
let storage: LocalStorage;
let cleanup: () => Promise<void>;

before(async () => {
  ({ storage, cleanup } = await tempStorage());
  // shop: daily runs, the newest 10 h old, sizes steady around 1000 bytes: healthy.
  for (const [day, bytes] of [[14, 1000], [15, 1010], [16, 990], [17, 1005], [18, 995], [19, 1000], [20, 1020], [21, 980]] as const) {
    await writeFakeBackup(storage, { cls: 'daily', source: 'shop', id: `202611${day}T020000Z-00${day}`, bytes });
  }
  // A fresh schema-only manual backup of shop is tiny, but status judges the newest full backup.
  await writeFakeBackup(storage, { cls: 'manual', source: 'shop', id: '20261121T110000Z-0a0a', bytes: 50, kind: 'schema' });
  // orders: the full backups stopped three days ago; a fresh schema-only backup must not hide it.
  for (const day of [16, 17, 18]) await writeFakeBackup(storage, { cls: 'daily', source: 'orders', id: `202611${day}T020000Z-02${day}`, bytes: 800 });
  await writeFakeBackup(storage, { cls: 'manual', source: 'orders', id: '20261121T100000Z-0b0b', bytes: 40, kind: 'schema' });
  // audit: only ever backed up with --table: judged on its newest backup of that kind.
  await writeFakeBackup(storage, { cls: 'daily', source: 'audit', id: '20261121T030000Z-0e0e', bytes: 70, kind: 'tables' });
  // billing: fresh, but the newest shrank to 300 of a median 1000: unhealthy by ratio.
  for (const [day, bytes] of [[18, 1000], [19, 1000], [20, 1000], [21, 300]] as const) {
    await writeFakeBackup(storage, { cls: 'daily', source: 'billing', id: `202611${day}T020000Z-01${day}`, bytes });
  }
  // cache (redis): last backup 30 h ago: unhealthy by age; a failed run since then does not count.
  await writeFakeBackup(storage, { cls: 'daily', engine: 'redis', source: 'cache', id: '20261120T060000Z-0c0c', bytes: 500 });
  await writeFakeBackup(storage, { cls: 'daily', engine: 'redis', source: 'cache', id: '20261121T060000Z-0c0d', incomplete: true });
  // ghost: only failed runs.
  await writeFakeBackup(storage, { cls: 'yearly', source: 'ghost', id: '20261121T020000Z-0d0d', incomplete: true });
});
after(async () => cleanup?.());

test('status --json judges every source and exits 1 when one is unhealthy', async () => {
  const c = capturedContext(NOW);
  const code = await main(['status', '--json', '--storage', storage.root], c.ctx);
  assert.equal(code, 1, c.stderr());
  const report = JSON.parse(c.stdout()) as HealthReport;
  const by = new Map(report.sources.map((s) => [`${s.engine}/${s.source}`, s]));
  assert.deepEqual([...by.keys()], ['postgres/audit', 'postgres/billing', 'postgres/ghost', 'postgres/orders', 'postgres/shop', 'redis/cache']);

  const shop = by.get('postgres/shop')!;
  assert.equal(shop.healthy, true, shop.problems.join());
  assert.equal(shop.newest!.id, '20261121T020000Z-0021');
  assert.equal(shop.newest!.kind, 'full');
  assert.equal(shop.newest!.ageSeconds, 10 * 3600);
  assert.equal(shop.medianBytes, 1000);

  const orders = by.get('postgres/orders')!;
  assert.equal(orders.healthy, false);
  assert.equal(orders.newest!.id, '20261118T020000Z-0218');
  assert.match(orders.problems[0]!, /3\.4d old \(max 26h00m\)/);

  const audit = by.get('postgres/audit')!;
  assert.equal(audit.healthy, true, audit.problems.join());
  assert.equal(audit.newest!.kind, 'tables');

  const billing = by.get('postgres/billing')!;
  assert.equal(billing.healthy, false);
  assert.equal(billing.medianBytes, 1000);
  assert.match(billing.problems[0]!, /300 bytes, 0\.30 of the median 1000 of the 3 before it \(min ratio 0\.5\)/);

  const cache = by.get('redis/cache')!;
  assert.equal(cache.healthy, false);
  assert.equal(cache.newest!.ageSeconds, 30 * 3600);
  assert.match(cache.problems[0]!, /30h00m old \(max 26h00m\)/);
  assert.equal(cache.incompleteBackups, 1);

  assert.match(by.get('postgres/ghost')!.problems[0]!, /no complete backup \(1 incomplete\)/);

  const event = c.events().at(-1)!;
  assert.equal(event.event, 'status.unhealthy');
  assert.equal(event.severity, 'ERROR');
  assert.deepEqual(event.unhealthySources, ['postgres/billing', 'postgres/ghost', 'postgres/orders', 'redis/cache']);
  assert.equal(event.exitCode, 1);
});

test('one healthy source: exit 0, a table on stdout, status.healthy with its figures', async () => {
  const c = capturedContext(NOW);
  const code = await main(['status', '--source', 'shop', '--engine', 'postgres', '--storage', storage.root], c.ctx);
  assert.equal(code, 0, c.stderr());
  assert.match(c.stdout(), /^SOURCE\s+STATUS\s+NEWEST/);
  assert.match(c.stdout(), /postgres\/shop\s+ok\s+20261121T020000Z-0021\s+daily\s+10h00m\s+980\s+1000/);
  const event = c.events().at(-1)!;
  assert.equal(event.event, 'status.healthy');
  assert.equal(event.source, 'shop');
  assert.equal(event.backupId, '20261121T020000Z-0021');
  assert.equal(event.class, 'daily');
  assert.equal(event.bytes, 980);
});

test('the age limit and an absolute size floor are flags', async () => {
  const relaxed = capturedContext(NOW);
  assert.equal(await main(['status', '--source', 'cache', '--max-age', '31h', '--storage', storage.root], relaxed.ctx), 0, relaxed.stdout());
  const floor = capturedContext(NOW);
  assert.equal(await main(['status', '--source', 'cache', '--max-age', '2d', '--min-size', '1KB', '--storage', storage.root], floor.ctx), 1);
  assert.match(floor.stdout(), /newest backup is 500 bytes \(min 1000\)/);
  const ratio = capturedContext(NOW);
  assert.equal(await main(['status', '--source', 'billing', '--min-ratio', '0.25', '--storage', storage.root], ratio.ctx), 0, ratio.stdout());
});

test('an unknown source or an empty storage is unhealthy, not healthy-by-absence', async () => {
  const c = capturedContext(NOW);
  assert.equal(await main(['status', '--source', 'nope', '--storage', storage.root], c.ctx), 1);
  assert.match(c.stdout(), /UNHEALTHY: no backups of source nope found in file:\/\//);
  assert.equal(c.events().at(-1)!.event, 'status.unhealthy');
});

test('bad flags are usage errors (exit 2) that name the flag and the value', async () => {
  for (const [args, re] of [
    [['--max-age', 'soon'], /--max-age expected a duration like 26h, 90m, 1h30m or 2d, got "soon"/],
    [['--min-size', '12 parsecs'], /--min-size expected a size in bytes/],
    [['--min-ratio', '1.5'], /--min-ratio expected a fraction greater than 0 and at most 1 \(e\.g\. 0\.5\), got "1\.5"/],
    [['--min-ratio', '0.5', '--min-size', '10'], /--min-size and --min-ratio exclude each other/],
  ] as const) {
    const c = capturedContext(NOW);
    assert.equal(await main(['status', ...args, '--storage', storage.root], c.ctx), 2);
    assert.match(c.stderr(), re);
    assert.equal(c.events().at(-1)!.event, 'status.unhealthy');
  }
});

test('durations and sizes parse', () => {
  assert.equal(parseDuration('--max-age', '26h'), 93600);
  assert.equal(parseDuration('--max-age', '1h30m'), 5400);
  assert.equal(parseDuration('--max-age', '2d'), 172800);
  assert.equal(parseDuration('--max-age', '600'), 600);
  assert.equal(parseBytes('--min-size', '2GiB'), 2 * 1024 ** 3);
  assert.equal(parseBytes('--min-size', '500MB'), 500e6);
  assert.throws(() => parseDuration('--max-age', '1h30'), /--max-age/);
});

test('an unreadable manifest is a finding: status is unhealthy naming it, list warns of it, verify says "manifest unreadable"', async () => {
  const own = await tempStorage();
  try {
    await writeFakeBackup(own.storage, { cls: 'daily', source: 'ledger', id: '20261121T020000Z-1111', bytes: 1000 });
    await writeFakeBackup(own.storage, { cls: 'daily', source: 'ledger', id: '20261121T080000Z-2222', bytes: 1000 });
    // The newest backup's manifest is damaged: the older one would otherwise make the source look healthy.
    await own.storage.putBytes('daily/postgres/ledger/20261121T080000Z-2222/manifest.json', '{"formatVersion": 1, "id": ');

    const s = capturedContext(NOW);
    assert.equal(await main(['status', '--json', '--storage', own.storage.root], s.ctx), 1, s.stderr());
    const ledger = (JSON.parse(s.stdout()) as HealthReport).sources[0]!;
    assert.equal(ledger.healthy, false);
    assert.match(ledger.problems.join('\n'), /backup 20261121T080000Z-2222: manifest unreadable \(manifest .* is not valid JSON/);

    const l = capturedContext(NOW);
    assert.equal(await main(['list', '--storage', own.storage.root], l.ctx), 0, l.stderr());
    assert.ok(l.events().some((e) => e.severity === 'WARNING' && /^backup 20261121T080000Z-2222 of ledger: manifest unreadable/.test(String(e.message))), JSON.stringify(l.events()));
    assert.match(l.stdout(), /20261121T020000Z-1111/);

    const v = capturedContext(NOW);
    assert.equal(await main(['verify', '20261121T080000Z-2222', '--storage', own.storage.root], v.ctx), 1, v.stderr());
    const event = v.events().at(-1)!;
    assert.equal(event.errorCode, 'manifest_unreadable');
    assert.match(String(event.message), /^backup 20261121T080000Z-2222: manifest unreadable/);
  } finally {
    await own.cleanup();
  }
});
