// Placeholder until the GCS backend lands (issue 3).
import { usageError } from '../errors';
import type { StorageFactory } from './open';
export const createGcsStorage: StorageFactory = (url) => {
  throw usageError('storage_unsupported', `gs:// storage is not available yet (${url.protocol})`);
};
