import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRange } from '../../runner/storage/range';
import { LifeboatError } from '../../runner/errors';

test('a byte range must be whole bytes inside the object: the error names the object, what was expected and given', () => {
  checkRange({ start: 0, end: 10 }, 10, 'file:///b/x');
  checkRange({ start: 5, end: 5 }, undefined, 'file:///b/x');
  for (const [range, size] of [[{ start: 0, end: 11 }, 10], [{ start: 4, end: 3 }, 10], [{ start: -1, end: 3 }, undefined], [{ start: 0.5, end: 3 }, 10]] as const) {
    assert.throws(
      () => checkRange(range, size, 'file:///b/x'),
      (e: LifeboatError) => {
        assert.equal(e.code, 'range_invalid');
        assert.equal(e.exitCode, 2);
        assert.equal(e.message, `byte range ${range.start}-${range.end} of file:///b/x expected 0 <= start <= end <= ${size ?? 'its size'}`);
        return true;
      },
    );
  }
});
