import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { idleTimeoutMs, isTransientStreamError, resumableRead } from '../../runner/storage/resumable-read';

/** A stream of data[from..], which breaks with `error` after `breakAfter` bytes (if given). */
function serve(data: Buffer, from: number, breakAfter?: number, error: Error = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })): Readable {
  let pos = from;
  return new Readable({
    read() {
      if (breakAfter !== undefined && pos - from >= breakAfter) return void this.destroy(error);
      if (pos >= data.length) return void this.push(null);
      const end = Math.min(data.length, pos + 1000, breakAfter !== undefined ? from + breakAfter : Infinity);
      this.push(data.subarray(pos, end));
      pos = end;
    },
  });
}

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

test('a stream that breaks is reopened where it broke, and the bytes are exactly the object', async () => {
  const data = randomBytes(10_000);
  const offsets: number[] = [];
  const s = resumableRead(serve(data, 0, 3500), {
    baseDelayMs: 1,
    open: async (offset) => {
      offsets.push(offset);
      return serve(data, offset, offsets.length === 1 ? 2000 : undefined);
    },
  });
  assert.deepEqual(await readAll(s), data);
  // Reopened twice, each time further on (a destroyed stream drops what it had buffered, so the offsets are
  // what was actually delivered, not where the fake server broke).
  assert.equal(offsets.length, 2);
  assert.ok(offsets[0]! > 0 && offsets[1]! > offsets[0]!, `offsets ${offsets.join(', ')}`);
});

test('a non-transient error is not retried', async () => {
  const data = randomBytes(5000);
  let opens = 0;
  const s = resumableRead(serve(data, 0, 1000, new Error('checksum mismatch')), {
    baseDelayMs: 1,
    open: async (o) => {
      opens++;
      return serve(data, o);
    },
  });
  await assert.rejects(readAll(s), /checksum mismatch/);
  assert.equal(opens, 0);
});

test('gives up after maxRetries breaks without progress', async () => {
  const data = randomBytes(5000);
  let opens = 0;
  const s = resumableRead(serve(data, 0, 1000), {
    baseDelayMs: 1,
    maxRetries: 3,
    open: async (o) => {
      opens++;
      return serve(data, o, 0);
    },
  });
  await assert.rejects(readAll(s), /ECONNRESET/);
  assert.equal(opens, 3);
});

test('transient errors are recognised by code or message', () => {
  assert.ok(isTransientStreamError(Object.assign(new Error('x'), { code: 'ECONNRESET' })));
  assert.ok(isTransientStreamError(new Error('socket hang up')));
  assert.ok(isTransientStreamError(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' })));
  assert.ok(!isTransientStreamError(new Error('object_not_found')));
  assert.ok(!isTransientStreamError(undefined));
});

/** data[from..], which after `stallAfter` bytes neither errors nor ends (a swallowed break, a stall). */
function stalling(data: Buffer, from: number, stallAfter?: number): Readable {
  let pos = from;
  return new Readable({
    read() {
      if (stallAfter !== undefined && pos - from >= stallAfter) return; // nothing, ever
      if (pos >= data.length) return void this.push(null);
      const end = Math.min(data.length, pos + 1000, stallAfter !== undefined ? from + stallAfter : Infinity);
      this.push(data.subarray(pos, end));
      pos = end;
    },
  });
}

test('a stream that stalls (no error, no end) is reopened after the idle timeout', async () => {
  const data = randomBytes(10_000);
  const first = stalling(data, 0, 4000);
  const offsets: number[] = [];
  const s = resumableRead(first, {
    baseDelayMs: 1,
    idleTimeoutMs: 50,
    open: async (offset) => {
      offsets.push(offset);
      return stalling(data, offset);
    },
  });
  assert.deepEqual(await readAll(s), data);
  assert.equal(offsets.length, 1);
  assert.ok(first.destroyed, 'the stalled stream was let go');
});

test('a slow consumer is not a stall: only the wait for the source is timed', async () => {
  const data = randomBytes(5000);
  let opens = 0;
  const s = resumableRead(serve(data, 0), {
    idleTimeoutMs: 30,
    open: async (o) => {
      opens++;
      return serve(data, o);
    },
  });
  const parts: Buffer[] = [];
  for await (const c of s) {
    parts.push(c as Buffer);
    await new Promise((r) => setTimeout(r, 80));
  }
  assert.deepEqual(Buffer.concat(parts), data);
  assert.equal(opens, 0);
});

test('a stream that ends short of the known size is a break, resumed where it ended', async () => {
  const data = randomBytes(8000);
  const short = Readable.from([data.subarray(0, 3000)], { objectMode: false });
  const offsets: number[] = [];
  const s = resumableRead(short, {
    baseDelayMs: 1,
    size: data.length,
    open: async (offset) => {
      offsets.push(offset);
      return serve(data, offset);
    },
  });
  assert.deepEqual(await readAll(s), data);
  assert.deepEqual(offsets, [3000]);
});

test('a consumer that stops early releases the source stream', async () => {
  const first = serve(randomBytes(100_000), 0);
  const s = resumableRead(first, { open: async () => assert.fail('not reopened') });
  for await (const c of s) {
    void c;
    break;
  }
  await new Promise((r) => setImmediate(r));
  assert.ok(first.destroyed);
});

test('idle timeout: 60 s by default, LIFEBOAT_STORAGE_IDLE_TIMEOUT_S, bad values are usage errors', () => {
  assert.equal(idleTimeoutMs({}), 60_000);
  assert.equal(idleTimeoutMs({ LIFEBOAT_STORAGE_IDLE_TIMEOUT_S: '5' }), 5000);
  assert.throws(() => idleTimeoutMs({ LIFEBOAT_STORAGE_IDLE_TIMEOUT_S: '0' }), /LIFEBOAT_STORAGE_IDLE_TIMEOUT_S expected a whole number of seconds from 1 to 3600, got "0"/);
});

test('a stream that stalls after its last byte (the size is known) ends there: no reopen asks for a range past the end', async () => {
  const data = randomBytes(3000);
  let opens = 0;
  const s = resumableRead(stalling(data, 0, 3000), {
    baseDelayMs: 1,
    idleTimeoutMs: 50,
    size: data.length,
    open: async (offset) => {
      opens++;
      return serve(data, offset);
    },
  });
  assert.deepEqual(await readAll(s), data);
  assert.equal(opens, 0);
});
