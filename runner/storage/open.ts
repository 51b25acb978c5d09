/**
 * Opens a storage URL. Local paths and file:// URLs are built in; `gs://` and `s3://` backends register
 * themselves here (runner/storage/gcs.ts, runner/storage/s3.ts) so the runner core depends on none of the SDKs.
 */
import { usageError } from '../errors';
import { LocalStorage } from './local';
import type { Storage } from './types';

export interface StorageOptions {
  /** S3-compatible endpoint (MinIO, R2, an emulator). Implies path-style addressing. */
  s3Endpoint?: string;
  s3Region?: string;
  /** Overrides for tests (emulator hosts etc.). */
  env?: NodeJS.ProcessEnv;
}

export type StorageFactory = (url: URL, opts: StorageOptions) => Storage;

const factories = new Map<string, () => Promise<StorageFactory>>([
  ['s3:', async () => (await import('./s3')).createS3Storage],
  ['gs:', async () => (await import('./gcs')).createGcsStorage],
]);

export async function openStorage(location: string | undefined, opts: StorageOptions = {}): Promise<Storage> {
  if (!location) {
    throw usageError(
      'storage_missing',
      'no storage given: --storage (or LIFEBOAT_STORAGE) expected a folder path, file://, gs:// or s3:// URL',
      'Example: --storage ./backups or --storage s3://my-bucket/prod',
    );
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !location.startsWith('file://')) {
    const url = new URL(location);
    const load = factories.get(url.protocol);
    if (!load) {
      throw usageError(
        'storage_scheme',
        `--storage expected a folder path, file://, gs:// or s3:// URL, got scheme "${url.protocol}"`,
      );
    }
    if (!url.hostname) throw usageError('storage_bucket', `--storage ${location} names no bucket`);
    return (await load())(url, opts);
  }
  return new LocalStorage(location);
}
