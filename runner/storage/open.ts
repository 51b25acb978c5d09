/**
 * Opens a storage URL: the one file that knows every backend. A local path or file:// URL is a folder
 * (local.ts); `gs://` and `s3://` load gcs.ts and s3.ts on first use, so a run that does not touch a bucket never
 * loads a cloud SDK. The backends implement the contract in types.ts and import nothing from here.
 */
import { usageError } from '../errors';
import { LocalStorage } from './local';
import type { Storage, StorageFactory, StorageOptions } from './types';

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
