import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgress, humanBytes } from '../../runner/pipeline/progress';

function sink(isTTY: boolean): { out: { isTTY: boolean; write: (s: string) => boolean }; text: () => string } {
  let text = '';
  return {
    out: {
      isTTY,
      write: (s: string) => {
        text += s;
        return true;
      },
    },
    text: () => text,
  };
}

test('progress prints nothing off a terminal', () => {
  const s = sink(false);
  let t = 0;
  const p = createProgress(s.out, 'backup', 1000, () => t);
  for (t = 0; t < 5000; t += 250) p.update(t / 5);
  p.done();
  assert.equal(s.text(), '');
});

test('progress on a terminal: one updating line with bytes, rate, percentage and ETA, cleared at the end', () => {
  const s = sink(true);
  let t = 0;
  const p = createProgress(s.out, 'backup', 10 * 1024 * 1024, () => t);
  t = 1000;
  p.update(2 * 1024 * 1024);
  assert.equal(s.text(), '\rbackup: 2.0 MiB  2.0 MiB/s  20%  ETA 4s\x1b[K');
  t = 1100;
  p.update(3 * 1024 * 1024); // within 200 ms: not redrawn
  assert.equal(s.text().split('\r').length, 2);
  p.done();
  assert.ok(s.text().endsWith('\r\x1b[K'));
  assert.equal(humanBytes(512), '512 B');
  assert.equal(humanBytes(1536), '1.5 KiB');
});
