import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeTempDir } from '../../runner/pipeline/temp-dir';

test('a temp folder under LIFEBOAT_TMPDIR, removed by its cleanup', async () => {
  const base = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-base-'));
  try {
    const t = await makeTempDir({ LIFEBOAT_TMPDIR: base }, 'lifeboat-x-');
    assert.equal(path.dirname(t.dir), base);
    assert.match(path.basename(t.dir), /^lifeboat-x-/);
    await t.cleanup();
    assert.equal(existsSync(t.dir), false);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a base that is not a writable folder: tmpdir_unwritable naming it and what needs room', async () => {
  const base = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-base-'));
  const file = path.join(base, 'not-a-folder');
  writeFileSync(file, '');
  try {
    await assert.rejects(makeTempDir({ LIFEBOAT_TMPDIR: file }, 'lifeboat-x-', 'the archive'), (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, 'tmpdir_unwritable');
      assert.ok(e.message.includes(file), e.message);
      assert.match(e.hint ?? '', /LIFEBOAT_TMPDIR .* with room for the archive/);
      return true;
    });
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a folder left by a killed runner of this host is removed by the next one; live ones and other hosts\' are kept', async () => {
  const base = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-base-'));
  try {
    const host = os.hostname().replace(/[^A-Za-z0-9._-]/g, '_');
    // A pid that is certainly gone: a child that has exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout.trim();
    const stale = path.join(base, `lifeboat-restore-${host}-${dead}-AbC123`);
    const live = path.join(base, `lifeboat-restore-${host}-${process.ppid}-DeF456`);
    const elsewhere = path.join(base, `lifeboat-redis-other-host-${dead}-GhI789`);
    const unrelated = path.join(base, 'lifeboat-notes');
    for (const d of [stale, live, elsewhere, unrelated]) mkdirSync(d);
    writeFileSync(path.join(stale, 'archive.pgc'), 'a whole dump');
    const t = await makeTempDir({ LIFEBOAT_TMPDIR: base }, 'lifeboat-restore-');
    assert.match(path.basename(t.dir), new RegExp(`^lifeboat-restore-${host.replace(/[.]/g, '\\.')}-${process.pid}-`));
    assert.equal(existsSync(stale), false);
    for (const d of [live, elsewhere, unrelated]) assert.equal(existsSync(d), true, d);
    await t.cleanup();
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
