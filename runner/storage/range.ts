/** Checks of ranged reads (Storage.get with a ByteRange), shared by the backends. */
import { usageError } from '../errors';
import type { ByteRange } from './types';

/** A range must be whole bytes inside the object; `where` names the object in the error. */
export function checkRange(range: ByteRange, size: number | undefined, where: string): void {
  const { start, end } = range;
  const whole = Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && end >= start;
  if (!whole || (size !== undefined && end > size)) {
    throw usageError('range_invalid', `byte range ${start}-${end} of ${where} expected 0 <= start <= end <= ${size ?? 'its size'}`);
  }
}
