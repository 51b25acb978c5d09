import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { childStdin, childStdinSink } from '../../runner/pipeline/child-stdin';

/**
 * A child's stdin as a pipe behaves: a write completes only once the child has room (here: 5 ms later), and a
 * stdin destroyed before then never delivers it.
 */
function slowPipe(): { stdin: Writable; delivered: () => number; content: () => Buffer } {
  const got: Buffer[] = [];
  const stdin: Writable = new Writable({
    highWaterMark: 16 << 10,
    write(chunk: Buffer, _enc, cb) {
      setTimeout(() => {
        // What the pipe takes is what the buffer holds now, as a real write reads it only when there is room.
        if (!stdin.destroyed) got.push(Buffer.from(chunk));
        cb();
      }, 5);
    },
  });
  return { stdin, delivered: () => got.reduce((n, b) => n + b.length, 0), content: () => Buffer.concat(got) };
}

test('a sink that finished ends stdin and leaves it to take its last, small write: nothing queued is dropped', async () => {
  const pipe = slowPipe();
  // The last chunk is below the high-water mark, so stdin.write returns true while the chunk still waits.
  await pipeline(Readable.from([Buffer.alloc(100 << 10, 1), Buffer.alloc(1000, 2)]), childStdinSink(childStdin(pipe.stdin)));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(pipe.delivered(), (100 << 10) + 1000);
  assert.equal(pipe.stdin.writableFinished, true, 'stdin was ended');
});

test('write resolves only once the pipe has the chunk, so its buffer may be reused then', async () => {
  const pipe = slowPipe();
  const w = childStdin(pipe.stdin);
  const buf = Buffer.alloc(1000, 3);
  await w.write(buf);
  assert.equal(pipe.delivered(), 1000);
  buf.fill(4);
  await w.write(buf);
  assert.ok(pipe.content().equals(Buffer.concat([Buffer.alloc(1000, 3), Buffer.alloc(1000, 4)])), 'each write took the bytes the buffer held then');
  w.end();
});

test('a write still queued when stdin is destroyed (the child was killed) resolves: the writer does not hang', async () => {
  // A pipe the child never reads from: the write stays queued.
  const stuck = new Writable({ write: () => undefined });
  stuck.on('error', () => undefined);
  const w = childStdin(stuck);
  const pending = w.write(Buffer.alloc(10));
  setTimeout(() => stuck.destroy(), 5);
  const outcome = await Promise.race([pending.then(() => 'resolved'), new Promise((r) => setTimeout(() => r('hung'), 2000))]);
  assert.equal(outcome, 'resolved');
});

test('once the child has closed its stdin, later writes are dropped and resolve at once; a failed pipeline aborts stdin', async () => {
  const pipe = slowPipe();
  const w = childStdin(pipe.stdin);
  pipe.stdin.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  await w.write(Buffer.alloc(10));
  assert.equal(pipe.delivered(), 0);
  w.end();

  const other = slowPipe();
  const failing = new Readable({
    read() {
      this.destroy(new Error('read failed'));
    },
  });
  await assert.rejects(pipeline(failing, childStdinSink(childStdin(other.stdin))), /read failed/);
  assert.equal(other.stdin.destroyed, true, 'stdin closed at once: the child must not wait for more');
});

test('a real child reading slowly gets every byte, the last small write included', async () => {
  // Sleeps first, so the pipe is full when the last write is queued.
  const child = spawn('sh', ['-c', 'sleep 0.2; wc -c'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise((r) => child.once('close', r));
  await pipeline(Readable.from([Buffer.alloc(1 << 20, 1), Buffer.alloc(1000, 2)]), childStdinSink(childStdin(child.stdin)));
  await closed;
  assert.equal(Number(out.trim()), (1 << 20) + 1000);
});

test('the sink aborts stdin only when its pipeline fails, never after a success (autoDestroy runs then too)', async () => {
  const calls: string[] = [];
  const spy = { write: async () => void calls.push('write'), end: () => void calls.push('end'), abort: () => void calls.push('abort') };
  await pipeline(Readable.from([Buffer.alloc(10)]), childStdinSink(spy));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(calls, ['write', 'end']);
  calls.length = 0;
  const failing = new Readable({
    read() {
      this.destroy(new Error('read failed'));
    },
  });
  await assert.rejects(pipeline(failing, childStdinSink(spy)), /read failed/);
  assert.deepEqual(calls, ['abort']);
});
