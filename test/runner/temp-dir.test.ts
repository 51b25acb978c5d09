import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
