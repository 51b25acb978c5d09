// Placeholder until the S3 backend lands (issue 3).
import { usageError } from '../errors';
import type { StorageFactory } from './open';
export const createS3Storage: StorageFactory = (url) => {
  throw usageError('storage_unsupported', `s3:// storage is not available yet (${url.protocol})`);
};
