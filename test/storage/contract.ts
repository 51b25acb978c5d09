/**
 * The storage contract (runner/storage/types.ts), as tests every backend must pass against a real server or
 * emulator. Each backend's test file starts its emulator and calls `storageContract`.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { LifeboatError } from '../../runner/errors';
import { OBJECT_NOT_FOUND, type Storage } from '../../runner/storage/types';

export interface ContractTarget {
  /** A storage rooted at `prefix` inside the test bucket (e.g. `run1/`). */
  open(prefix: string): Promise<Storage>;
  /** Expected display URL for a prefix. */
  urlFor(prefix: string): string;
  /** Names of multipart uploads still pending under a full object-name prefix; undefined where the server cannot tell. */
  pendingUploads?(prefix: string): Promise<string[]>;
  /**
   * Objects the server returns in the first page of a raw 1000-per-page listing of a full object-name prefix;
   * absent where listing has no pages (a local folder).
   */
  firstPageSize?(prefix: string): Promise<number>;
}

const MiB = 1024 * 1024;

/** `total` random bytes in 1 MiB pieces, or an error after `failAfter` bytes. */
export function randomSource(total: number, failAfter?: number): { stream: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  let sent = 0;
  const stream = new Readable({
    read() {
      if (failAfter !== undefined && sent >= failAfter) {
        this.destroy(new Error('injected failure in the source stream'));
        return;
      }
      if (sent >= total) return void this.push(null);
      const b = randomBytes(Math.min(MiB, total - sent));
      sent += b.length;
      hash.update(b);
      this.push(b);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

async function sha256Of(s: Readable): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const c of s) {
    h.update(c as Buffer);
    bytes += (c as Buffer).length;
  }
  return { sha256: h.digest('hex'), bytes };
}

async function notFound(p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof LifeboatError && e.code === OBJECT_NOT_FOUND && e.exitCode === 1);
}

async function keys(s: Storage, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of s.list(prefix)) out.push(o.key);
  return out.sort();
}

async function inParallel<T>(items: T[], width: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

export function storageContract(name: string, target: () => ContractTarget): void {
  describe(`${name}: storage contract`, () => {
    let t: ContractTarget;
    let s: Storage;
    before(async () => {
      t = target();
      s = await t.open('contract/root');
    });

    test('url is the display form; putBytes/getBytes round trip under the root', async () => {
      assert.equal(s.url, t.urlFor('contract/root'));
      await s.putBytes('daily/postgres/app/a.json', '{"a":1}', { contentType: 'application/json' });
      assert.equal((await s.getBytes('daily/postgres/app/a.json')).toString(), '{"a":1}');
      await s.putBytes('daily/postgres/app/a.json', Buffer.from('{"a":2}'));
      assert.equal((await s.getBytes('daily/postgres/app/a.json')).toString(), '{"a":2}', 'overwrite');
      // Another root in the same bucket does not see it.
      const other = await t.open('contract/other');
      await notFound(other.getBytes('daily/postgres/app/a.json'));
      assert.deepEqual(await keys(other, ''), []);
    });

    test('put streams a multipart-sized body; get streams it back byte for byte', async () => {
      const src = randomSource(40 * MiB + 123);
      let progress = 0;
      const r = await s.put('big/payload.bin', src.stream, { onProgress: (b) => (progress = b) });
      assert.equal(r.bytes, 40 * MiB + 123);
      assert.equal(progress, r.bytes);
      const back = await sha256Of(await s.get('big/payload.bin'));
      assert.deepEqual(back, { sha256: src.sha256(), bytes: r.bytes });
      const listed = [];
      for await (const o of s.list('big/')) listed.push(o);
      assert.equal(listed.length, 1);
      assert.equal(listed[0]!.key, 'big/payload.bin');
      assert.equal(listed[0]!.size, r.bytes);
      assert.ok(listed[0]!.modified instanceof Date && !Number.isNaN(listed[0]!.modified.getTime()));
    });

    test('get with a byte range streams exactly those bytes; a range past the end fails', async () => {
      const data = randomBytes(3 * MiB + 17);
      await s.putBytes('ranges/object.bin', data);
      const read = async (start: number, end: number): Promise<Buffer> => {
        const chunks: Buffer[] = [];
        for await (const c of await s.get('ranges/object.bin', { start, end })) chunks.push(c as Buffer);
        return Buffer.concat(chunks);
      };
      for (const [start, end] of [[0, 10], [MiB - 5, 2 * MiB + 7], [data.length - 1, data.length], [0, data.length], [42, 42]] as const) {
        assert.ok((await read(start, end)).equals(data.subarray(start, end)), `bytes ${start}-${end}`);
      }
      await assert.rejects(() => read(data.length - 2, data.length + 5));
      await notFound(s.get('nope/missing.bin', { start: 0, end: 1 }));
    });

    test('a missing object is object_not_found for get and getBytes', async () => {
      await notFound(s.get('nope/missing.bin'));
      await notFound(s.getBytes('nope/missing.bin'));
    });

    test('list filters by prefix and returns keys relative to the root', async () => {
      await s.putBytes('lst/a/1', 'x');
      await s.putBytes('lst/a/2', 'yy');
      await s.putBytes('lst/b/1', 'z');
      await s.putBytes('lstx/1', 'z');
      assert.deepEqual(await keys(s, 'lst/'), ['lst/a/1', 'lst/a/2', 'lst/b/1']);
      assert.deepEqual(await keys(s, 'lst/a/'), ['lst/a/1', 'lst/a/2']);
      assert.deepEqual(await keys(s, 'lst/c/'), []);
      const sizes: Record<string, number> = {};
      for await (const o of s.list('lst/a/')) sizes[o.key] = o.size;
      assert.deepEqual(sizes, { 'lst/a/1': 1, 'lst/a/2': 2 });
    });

    test('list paginates past 1000 objects', async () => {
      const n = 1105;
      const names = Array.from({ length: n }, (_, i) => `many/obj-${String(i).padStart(5, '0')}`);
      await inParallel(names, 16, (k) => s.putBytes(k, k));
      // The server really cut the listing into pages, so the loop over pages is what is being tested.
      if (t.firstPageSize) assert.equal(await t.firstPageSize('contract/root/many/'), 1000);
      const got = await keys(s, 'many/');
      assert.equal(got.length, n);
      assert.deepEqual(got, names);
      // At the bucket root (no prefix in the URL) the same listing pages too, and keys are the full names.
      const bare = await t.open('');
      assert.deepEqual(await keys(bare, 'contract/root/many/'), names.map((k) => `contract/root/${k}`));
    });

    test('keys are relative to the root; a sibling prefix that starts with the same letters is not listed', async () => {
      await s.putBytes('rel/a', 'a');
      const sibling = await t.open('contract/rootx');
      await sibling.putBytes('rel/b', 'b');
      assert.deepEqual(await keys(s, 'rel/'), ['rel/a']);
      assert.deepEqual(await keys(sibling, 'rel/'), ['rel/b']);
      assert.ok(!(await keys(s, '')).some((k) => k.endsWith('rel/b')), 'contract/rootx/ is outside contract/root/');
      const bare = await t.open('');
      assert.deepEqual(await keys(bare, 'contract/root'), ['contract/root/rel/a', 'contract/rootx/rel/b'].concat(
        (await keys(s, '')).filter((k) => k !== 'rel/a').map((k) => `contract/root/${k}`)).sort());
      assert.equal((await bare.getBytes('contract/rootx/rel/b')).toString(), 'b');
    });

    test('delete removes an object; deleting a missing one is not an error', async () => {
      await s.putBytes('del/x', 'x');
      await s.delete('del/x');
      await notFound(s.getBytes('del/x'));
      await s.delete('del/never-existed');
      assert.deepEqual(await keys(s, 'del/'), []);
    });

    for (const [label, total, failAfter] of [
      ['after several parts', 60 * MiB, 40 * MiB],
      ['before the first part is full', 60 * MiB, 3 * MiB],
    ] as const) {
      test(`a body that errors mid-upload (${label}) publishes nothing and leaves no pending upload`, async () => {
        const key = `fail/${failAfter}.bin`;
        const src = randomSource(total, failAfter);
        await assert.rejects(s.put(key, src.stream), /injected failure in the source stream/);
        await notFound(s.get(key));
        assert.deepEqual(await keys(s, 'fail/'), []);
        const pending = await t.pendingUploads?.('contract/root/fail/');
        if (pending) assert.deepEqual(pending, []);
      });
    }

    test('an aborted upload rejects and publishes nothing', async () => {
      const ac = new AbortController();
      const src = randomSource(60 * MiB);
      const p = s.put('abort/x.bin', src.stream, {
        signal: ac.signal,
        onProgress: (b) => {
          if (b > 20 * MiB) ac.abort(new Error('stopped by the test'));
        },
      });
      await assert.rejects(p, /stopped by the test/);
      await notFound(s.get('abort/x.bin'));
      const pending = await t.pendingUploads?.('contract/root/abort/');
      if (pending) assert.deepEqual(pending, []);
    });

    test('keys that would escape the root are refused (exit 2)', async () => {
      for (const bad of ['../x', 'a/../b', '/abs', 'a//b']) {
        await assert.rejects(s.putBytes(bad, 'x'), (e: unknown) => e instanceof LifeboatError && e.exitCode === 2);
      }
    });
  });
}
