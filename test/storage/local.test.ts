import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LifeboatError } from '../../runner/errors';
import { LocalStorage } from '../../runner/storage/local';
import { OBJECT_NOT_FOUND } from '../../runner/storage/types';
import { storageContract } from './contract';

let root = '';
before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'lifeboat-contract-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

storageContract('local folder', () => ({
  open: async (prefix) => new LocalStorage(path.join(root, prefix)),
  urlFor: (prefix) => pathToFileURL(path.join(root, prefix)).href,
}));

test("open: positional reads into the caller's buffer; the size when opened; a missing object is object_not_found", async () => {
  const s = new LocalStorage(path.join(root, 'open'));
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff));
  await s.putBytes('a/obj', data);
  const r = await s.open('a/obj');
  try {
    assert.equal(r.size, 1000);
    const into = Buffer.alloc(64, 0xee);
    assert.equal(await r.read(into, 10, 500), 10);
    assert.ok(into.subarray(0, 10).equals(data.subarray(500, 510)), 'the bytes at the position, from the start of the buffer');
    assert.equal(into[10], 0xee, 'nothing past the length');
    assert.equal(await r.read(into, 64, 990), 10, 'a read across the end stops there');
    assert.equal(await r.read(into, 64, 1000), 0, 'at the end: 0');
  } finally {
    await r.close();
  }
  await assert.rejects(s.open('a/missing'), (e: unknown) => e instanceof LifeboatError && e.code === OBJECT_NOT_FOUND);
  await assert.rejects(s.open('../escape'), /not a relative path/);
});
