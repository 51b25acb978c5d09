/** `lifeboat prune` end to end on a real local storage: dry run, then --yes, with the final event. */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { main } from '../../runner/cli/main';
import { listBackups, scanBackups } from '../../runner/catalog/catalog';
import type { LocalStorage } from '../../runner/storage/local';
import { capturedContext, tempStorage, writeFakeBackup } from './store';

const NOW = new Date('2026-11-21T12:00:00Z');
let storage: LocalStorage;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ storage, cleanup } = await tempStorage());
  // shop: yearly, monthly, 3 dailies (keep 2), an old manual, an old failed run, a young failed run (running).
  await writeFakeBackup(storage, { cls: 'yearly', id: '20260101T020000Z-0001' });
  await writeFakeBackup(storage, { cls: 'monthly', id: '20261101T020000Z-0002' });
  await writeFakeBackup(storage, { cls: 'daily', id: '20261118T020000Z-0003' });
  await writeFakeBackup(storage, { cls: 'daily', id: '20261119T020000Z-0004' });
  await writeFakeBackup(storage, { cls: 'daily', id: '20261120T020000Z-0005' });
  await writeFakeBackup(storage, { cls: 'manual', id: '20260701T100000Z-0006' });
  await writeFakeBackup(storage, { cls: 'daily', id: '20261117T020000Z-0007', incomplete: true });
  await writeFakeBackup(storage, { cls: 'daily', id: '20261121T020000Z-0008', incomplete: true, mtime: new Date('2026-11-21T11:00:00Z') });
  // cache (redis): one old manual backup, the only one: kept as the newest of its source.
  await writeFakeBackup(storage, { cls: 'manual', engine: 'redis', source: 'cache', id: '20250101T000000Z-0009' });
  // Leftover temporary files of interrupted writes: an old one and a fresh one.
  const dir = path.join(storage.root, 'daily', 'postgres', 'shop', '20261117T020000Z-0007');
  await fs.writeFile(path.join(dir, '.dump.pgc.zst.aaaa.partial'), 'x'.repeat(10));
  await fs.utimes(path.join(dir, '.dump.pgc.zst.aaaa.partial'), new Date('2026-11-01'), new Date('2026-11-01'));
  await fs.writeFile(path.join(storage.root, '.manifest.json.bbbb.partial'), 'y');
  await fs.utimes(path.join(storage.root, '.manifest.json.bbbb.partial'), NOW, NOW);
});
afterEach(async () => cleanup());

const ARGS = ['prune', '--keep-daily', '2', '--keep-manual-days', '90'];

test('prune without --yes prints every backup with its decision and deletes nothing', async () => {
  const c = capturedContext(NOW);
  const before = await scanBackups(storage);
  const code = await main([...ARGS, '--storage', storage.root], c.ctx);
  assert.equal(code, 0, c.stderr());
  const out = c.stdout();
  for (const id of ['0001', '0002', '0003', '0004', '0005', '0006', '0007', '0008', '0009']) assert.match(out, new RegExp(`-${id} `));
  assert.match(out, /delete\s+daily\s+postgres\/shop\s+20261118T020000Z-0003\s+daily of 2026-11-18, day #3 newest \(beyond the newest 2 days\)/);
  assert.match(out, /keep\s+daily\s+postgres\/shop\s+20261120T020000Z-0005\s+daily of 2026-11-20, day #1 newest \(keep 2 days\)/);
  assert.match(out, /delete\s+manual\s+postgres\/shop\s+20260701T100000Z-0006\s+manual, 143\.1 days old/);
  assert.match(out, /keep\s+manual\s+redis\/cache\s+20250101T000000Z-0009\s+newest complete backup of redis\/cache/);
  assert.match(out, /keep\s+daily\s+postgres\/shop\s+20261121T020000Z-0008\s+incomplete \(no manifest\), last written 1\.0h ago: may still be running/);
  assert.match(out, /delete\s+-\s+-\s+daily\/postgres\/shop\/20261117T020000Z-0007\/\.dump\.pgc\.zst\.aaaa\.partial/);
  assert.match(out, /dry run: 4 would be deleted, 7 kept/);
  assert.deepEqual(await scanBackups(storage), before);
  const [event] = c.events();
  assert.equal(event!.event, 'prune.succeeded');
  assert.equal(event!.dryRun, true);
  assert.equal(event!.wouldDelete, 4);
  assert.equal(event!.deleted, 0);
});

test('prune --yes deletes exactly the planned backups and leftovers, folders included', async () => {
  const c = capturedContext(NOW);
  const doomed = ['daily/postgres/shop/20261118T020000Z-0003', 'manual/postgres/shop/20260701T100000Z-0006', 'daily/postgres/shop/20261117T020000Z-0007'];
  let doomedBytes = 0;
  for (const d of doomed) for (const f of await fs.readdir(path.join(storage.root, d))) doomedBytes += (await fs.stat(path.join(storage.root, d, f))).size;
  const code = await main([...ARGS, '--yes', '--storage', `file://${storage.root}`], c.ctx);
  assert.equal(code, 0, c.stderr());
  const left = await scanBackups(storage);
  assert.deepEqual(left.complete.map((b) => b.id).sort(), ['20250101T000000Z-0009', '20260101T020000Z-0001', '20261101T020000Z-0002', '20261119T020000Z-0004', '20261120T020000Z-0005']);
  assert.deepEqual(left.incomplete.map((b) => b.id), ['20261121T020000Z-0008']);
  assert.equal(existsSync(path.join(storage.root, 'daily', 'postgres', 'shop', '20261118T020000Z-0003')), false);
  assert.equal(existsSync(path.join(storage.root, 'daily', 'postgres', 'shop', '20261117T020000Z-0007')), false);
  assert.equal(existsSync(path.join(storage.root, '.manifest.json.bbbb.partial')), true, 'a fresh partial file may belong to a running write');
  const event = c.events().at(-1)!;
  assert.equal(event.event, 'prune.succeeded');
  assert.equal(event.dryRun, false);
  assert.equal(event.deleted, 4);
  assert.equal(event.bytes, doomedBytes);
  assert.ok(doomedBytes > 310);
  assert.equal(typeof event.durationSeconds, 'number');
});

test('prune --source limits the plan to one source and never touches the others', async () => {
  const c = capturedContext(NOW);
  const code = await main(['prune', '--keep-manual-days', '1', '--source', 'cache', '--engine', 'redis', '--yes', '--storage', storage.root], c.ctx);
  assert.equal(code, 0, c.stderr());
  assert.doesNotMatch(c.stdout(), /postgres\/shop/);
  assert.equal((await listBackups(storage)).length, 7);
});

test('a bad count is a usage error (exit 2) naming the flag, and deletes nothing', async () => {
  const c = capturedContext(NOW);
  const code = await main(['prune', '--keep-daily', 'seven', '--yes', '--storage', storage.root], c.ctx);
  assert.equal(code, 2);
  assert.match(c.stderr(), /--keep-daily expected a whole number >= 0, got "seven"/);
  assert.equal(c.events()[0]!.event, 'prune.failed');
  assert.equal((await listBackups(storage)).length, 7);
});

test('a backup whose manifest this runner cannot read (a newer format, or damaged) is never deleted', async () => {
  const id = '20260301T020000Z-00aa';
  await writeFakeBackup(storage, { cls: 'daily', id });
  const manifestFile = path.join(storage.root, 'daily', 'postgres', 'shop', id, 'manifest.json');
  const newer = { ...JSON.parse(await fs.readFile(manifestFile, 'utf8')), formatVersion: 2 };
  await fs.writeFile(manifestFile, JSON.stringify(newer));
  const old = new Date('2026-03-01T03:00:00Z');
  await fs.utimes(manifestFile, old, old);
  const c = capturedContext(NOW);
  const code = await main([...ARGS, '--yes', '--storage', storage.root], c.ctx);
  assert.equal(code, 0, c.stderr());
  assert.match(c.stdout(), new RegExp(`keep\\s+daily\\s+postgres/shop\\s+${id}\\s+manifest unreadable \\(.*\\): never deleted by prune`));
  assert.equal(existsSync(manifestFile), true);
  assert.equal(c.events().at(-1)!.deleted, 4);
});

test('prune --json --yes prints every decision and what was actually deleted', async () => {
  const c = capturedContext(NOW);
  assert.equal(await main([...ARGS, '--yes', '--json', '--storage', storage.root], c.ctx), 0, c.stderr());
  const out = JSON.parse(c.stdout()) as { dryRun: boolean; decisions: { action: string; backup: string; reason: string }[]; applied: { deletedBackups: number; deletedPartials: number } };
  assert.equal(out.dryRun, false);
  assert.equal(out.decisions.length, 11);
  assert.deepEqual(out.decisions.filter((d) => d.action === 'delete').map((d) => d.backup).sort(), [
    '20260701T100000Z-0006', '20261117T020000Z-0007', '20261118T020000Z-0003', 'daily/postgres/shop/20261117T020000Z-0007/.dump.pgc.zst.aaaa.partial',
  ]);
  assert.deepEqual([out.applied.deletedBackups, out.applied.deletedPartials], [3, 1]);
});
