/**
 * The globals object in storage (runner/contract/globals.ts): sealed like the payload (age to the same
 * recipients when the payload is encrypted; it may hold password hashes) and proven by the sha256 the manifest
 * records. It is small (a few KiB per hundred roles), so it is held in memory whole.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { CompleteBackup } from '../catalog/catalog';
import { GlobalsSchema, parseGlobals, type Globals, type GlobalsInput } from '../contract/globals';
import type { GlobalsRef } from '../contract/manifest';
import { createDecryptor, createEncryptor, identityFingerprints } from '../crypto/age';
import { isLifeboatError, runtimeError } from '../errors';
import { registerSecret } from '../redact';
import type { ObjectRetention, Storage } from '../storage/types';

/**
 * Serializes, encrypts when there are recipients, stores under `key` (locked like the payload when `retention`
 * is given); returns the manifest's record of it.
 */
export async function storeGlobals(
  storage: Storage,
  key: string,
  object: string,
  globals: GlobalsInput,
  recipients: readonly string[],
  retention?: ObjectRetention,
): Promise<GlobalsRef> {
  const parsed = GlobalsSchema.parse(globals);
  const plain = Buffer.from(JSON.stringify(parsed, null, 2) + '\n');
  let stored = plain;
  let encryption: GlobalsRef['encryption'] = null;
  if (recipients.length) {
    const enc = await createEncryptor([...recipients]);
    stored = await buffer(Readable.from([plain]).pipe(enc.stream));
    encryption = { scheme: 'age', recipients: enc.fingerprints };
  }
  await storage.putBytes(key, stored, { contentType: recipients.length ? 'application/octet-stream' : 'application/json', ...(retention ? { retention } : {}) });
  return {
    object,
    bytes: stored.length,
    sha256: createHash('sha256').update(stored).digest('hex'),
    encryption,
    roles: parsed.roles.length,
    passwords: parsed.roles.some((r) => r.password !== undefined),
  };
}

/** The backup's globals, checked against the manifest's sha256 and decrypted; null for a backup without them. */
export async function fetchGlobals(backup: CompleteBackup, storage: Storage, identityText: string | undefined): Promise<Globals | null> {
  const ref = backup.manifest.globals;
  if (!ref) return null;
  const key = backup.prefix + ref.object;
  const url = `${storage.url}/${key}`;
  let stored: Buffer;
  try {
    stored = await storage.getBytes(key);
  } catch (e) {
    throw runtimeError('globals_unreadable', `the globals object ${url} of backup ${backup.id} cannot be read: ${(e as Error).message}`, undefined, e);
  }
  const sha256 = createHash('sha256').update(stored).digest('hex');
  if (sha256 !== ref.sha256 || stored.length !== ref.bytes) {
    throw runtimeError(
      'checksum_mismatch',
      `sha256 of ${url} is ${sha256} (${stored.length} bytes), the manifest says ${ref.sha256} (${ref.bytes} bytes)`,
      'The stored globals are corrupt: restore another backup (lifeboat list)',
    );
  }
  let plain = stored;
  if (ref.encryption) {
    if (!identityText) throw runtimeError('identity_missing', `${url} is encrypted and no age identity was given`, 'Pass --identity-file or set LIFEBOAT_AGE_IDENTITY');
    const mine = await identityFingerprints(identityText);
    if (!mine.some((f) => ref.encryption!.recipients.includes(f))) {
      throw runtimeError('decrypt_wrong_identity', `none of the keys in the age identity file can decrypt ${url}`, 'Use the identity of one of the backup\'s recipients');
    }
    try {
      plain = await buffer(Readable.from([stored]).pipe(await createDecryptor(identityText)));
    } catch (e) {
      throw runtimeError(isLifeboatError(e) ? e.code : 'decrypt_failed', `cannot decrypt ${url}: ${(e as Error).message}`, undefined, e);
    }
  }
  let globals: Globals;
  try {
    globals = parseGlobals(plain.toString('utf8'), url);
  } catch (e) {
    throw runtimeError('globals_invalid', (e as Error).message);
  }
  // Password hashes are secrets: never in a log line or an error, even from a failed CREATE ROLE.
  for (const r of globals.roles) if (r.password !== undefined) registerSecret(r.password);
  return globals;
}
