/**
 * Object keys for bucket backends. A storage URL `s3://bucket/some/prefix` or `gs://bucket/some/prefix` roots
 * every key under `some/prefix/`; callers only ever see keys relative to that root.
 */
import { usageError } from '../errors';

export interface BucketLocation {
  bucket: string;
  /** '' or a prefix ending in '/'. */
  root: string;
  /** Display form without credentials or trailing slash: `s3://bucket/some/prefix`. */
  url: string;
}

export function bucketLocation(url: URL): BucketLocation {
  if (url.username || url.password) {
    throw usageError('storage_credentials_in_url', `--storage ${url.protocol}// URLs must not carry credentials`,
      'Credentials come from the cloud SDK default chain (environment, workload identity, instance role)');
  }
  if (url.search || url.hash) {
    throw usageError('storage_url', `--storage ${url.protocol}//${url.hostname}: query strings and fragments are not supported`);
  }
  const bucket = url.hostname;
  const path = decodeURIComponent(url.pathname).replace(/^\/+/, '').replace(/\/+$/, '');
  if (path.split('/').some((s) => s === '..' || s === '.')) {
    throw usageError('storage_url', `--storage ${url.protocol}//${bucket}/${path}: the prefix must not contain "." or ".." segments`);
  }
  const root = path ? `${path}/` : '';
  return { bucket, root, url: `${url.protocol}//${bucket}${path ? `/${path}` : ''}` };
}

/** The full object name of a relative key; rejects keys that would escape the root. */
export function objectName(loc: BucketLocation, key: string): string {
  if (key === '' || key.startsWith('/') || key.split('/').some((s) => s === '..' || s === '.' || s === '')) {
    throw usageError('bad_key', `storage key ${JSON.stringify(key)} is not a relative path without empty, "." or ".." segments`);
  }
  return loc.root + key;
}

/** The relative key of a full object name listed under the root. */
export function relativeKey(loc: BucketLocation, name: string): string {
  return name.startsWith(loc.root) ? name.slice(loc.root.length) : name;
}
