/**
 * Client-side encryption of payloads with age (https://age-encryption.org/v1, X25519 recipients). The backup job
 * needs only public keys; restore and verify need an identity file.
 *
 * Division of labour: the `age-encryption` library does everything about keys and the header (recipient
 * parsing, wrapping and unwrapping the file key, the header MAC). The payload's STREAM layer (ChaCha20-Poly1305
 * over 64 KiB chunks) is done here with Node's OpenSSL cipher, because the library's pure-JS ChaCha20 runs at
 * ~90 MB/s on this class of machine against ~1500 MB/s for OpenSSL, which would make encryption the slowest
 * stage of a backup. The output is byte-for-byte the age format: test/crypto/age.test.ts checks that the
 * library decrypts what we encrypt and that we decrypt what the library encrypts.
 *
 * Both directions stream with bounded memory (one 64 KiB chunk plus stream buffers). Every chunk is
 * authenticated and the last one carries a flag, so tampering and truncation (even at a chunk boundary) fail.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import { Transform, type Duplex, type TransformCallback } from 'node:stream';
import { runtimeError, usageError } from '../errors';

type AgeModule = typeof import('age-encryption');
let ageModule: Promise<AgeModule> | undefined;
/** age-encryption is an ES module; load it once, lazily, so plain-text runs never pay for it. */
function loadAge(): Promise<AgeModule> {
  ageModule ??= import('age-encryption');
  return ageModule;
}

/** Plaintext bytes per STREAM chunk and the Poly1305 tag appended to each (age spec). */
export const CHUNK = 64 * 1024;
export const TAG = 16;
const NONCE_PREFIX = 16;
/** A header with many post-quantum recipients is a few tens of KiB; anything longer is not an age file. */
const MAX_HEADER = 1024 * 1024;

export interface Encryptor {
  /** Plaintext in, age ciphertext out. */
  stream: Duplex;
  /** sha256 fingerprints of the recipients, for the manifest. */
  fingerprints: string[];
}

/**
 * An encrypting stream for `recipients` (age public keys, `age1...`). Bad recipients are a usage error (exit 2)
 * naming the offending value (public keys are not secret).
 */
export async function createEncryptor(recipients: string[]): Promise<Encryptor> {
  const list = normalizeRecipients(recipients);
  const { Encrypter } = await loadAge();
  const enc = new Encrypter();
  // The library picks the random file key; a recipient that adds no stanza lets us see it, so the payload can
  // be encrypted with OpenSSL below while the header stays the library's own work.
  let fileKey: Uint8Array | undefined;
  enc.addRecipient({
    wrapFileKey(key: Uint8Array) {
      fileKey = key;
      return [];
    },
  });
  for (const r of list) {
    try {
      enc.addRecipient(r);
    } catch (e) {
      throw badRecipient(r, e);
    }
  }
  let empty: Uint8Array;
  try {
    // The encryption of an empty payload is header || nonce || one empty final chunk (a bare 16-byte tag).
    empty = await enc.encrypt(new Uint8Array(0));
  } catch (e) {
    throw usageError('bad_recipient', `--encrypt-to: could not encrypt to the given recipients (${(e as Error).message})`);
  }
  if (!fileKey) throw new Error('age-encryption did not hand out the file key');
  const prefix = Buffer.from(empty.subarray(0, empty.length - TAG));
  const nonce = prefix.subarray(prefix.length - NONCE_PREFIX);
  return { stream: new StreamEncrypter(prefix, payloadKey(fileKey, nonce)), fingerprints: list.map(recipientFingerprint) };
}

/**
 * Ciphertext in, plaintext out. `identityText` is the content of an age identity file (one or more
 * `AGE-SECRET-KEY-1...` lines, `#` comments allowed). The stream fails with a LifeboatError (exit 1) on a wrong
 * identity, a tampered header or chunk, or a truncated payload; it never emits unauthenticated bytes.
 */
export async function createDecryptor(identityText: string): Promise<Duplex> {
  return new StreamDecrypter(await headerUnwrapper(identityText));
}

/** Unwraps a header's file key with the identities of an identity file (the library's work). */
export async function headerUnwrapper(identityText: string): Promise<(header: Uint8Array) => Promise<Uint8Array>> {
  const identities = parseIdentities(identityText);
  const { Decrypter } = await loadAge();
  const dec = new Decrypter();
  for (const id of identities) {
    try {
      dec.addIdentity(id);
    } catch {
      throw usageError('bad_identity', 'the age identity file holds a line that is not a valid age secret key');
    }
  }
  return (header) => dec.decryptHeader(header);
}

/** A stable, non-secret fingerprint of a recipient (public key) string: `sha256:` and 16 hex digits. */
export function recipientFingerprint(recipient: string): string {
  const canonical = recipient.trim().toLowerCase();
  return 'sha256:' + createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** Fingerprints of the public keys of the identities in an identity file (to compare with a manifest's). */
export async function identityFingerprints(identityText: string): Promise<string[]> {
  const { identityToRecipient } = await loadAge();
  const out: string[] = [];
  for (const id of parseIdentities(identityText)) {
    try {
      out.push(recipientFingerprint(await identityToRecipient(id)));
    } catch {
      throw usageError('bad_identity', 'the age identity file holds a line that is not a valid age secret key');
    }
  }
  return out;
}

/** Secret key lines of an age identity file. Never echoes file content in errors: it is secret. */
export function parseIdentities(identityText: string): string[] {
  const keys = identityText
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (keys.length === 0) {
    throw usageError('bad_identity', 'the age identity file holds no key (expected lines starting with AGE-SECRET-KEY-1)');
  }
  keys.forEach((k, i) => {
    if (!/^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/.test(k)) {
      throw usageError(
        'bad_identity',
        `line ${i + 1} of the age identity file (not counting comments) is not an age secret key (expected AGE-SECRET-KEY-1...)`,
      );
    }
  });
  return keys;
}

function normalizeRecipients(recipients: string[]): string[] {
  const list = [...new Set(recipients.map((r) => r.trim()).filter((r) => r !== ''))];
  if (list.length === 0) throw usageError('bad_recipient', '--encrypt-to expected at least one age recipient (age1...)');
  for (const r of list) {
    if (!/^age1[0-9a-z]+$/.test(r)) throw badRecipient(r);
  }
  return list;
}

function badRecipient(r: string, cause?: unknown): Error {
  const shown = r.length > 80 ? `${r.slice(0, 77)}...` : r;
  const why = cause instanceof Error ? ` (${cause.message})` : '';
  return usageError('bad_recipient', `--encrypt-to expected an age recipient (age1...), got "${shown}"${why}`);
}

function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
}

/** STREAM nonce: 11-byte big-endian chunk counter, then 1 on the last chunk, 0 otherwise. */
function chunkNonce(counter: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.writeUIntBE(Math.floor(counter / 2 ** 32), 3, 4);
  n.writeUInt32BE(counter % 2 ** 32, 7);
  n[11] = last ? 1 : 0;
  return n;
}

function seal(key: Buffer, counter: number, last: boolean, plain: Buffer): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, chunkNonce(counter, last), { authTagLength: TAG });
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
}

export function openChunk(key: Buffer, counter: number, last: boolean, sealed: Buffer): Buffer | null {
  if (sealed.length < TAG) return null;
  const d = createDecipheriv('chacha20-poly1305', key, chunkNonce(counter, last), { authTagLength: TAG });
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  try {
    const plain = d.update(sealed.subarray(0, sealed.length - TAG));
    const rest = d.final();
    // A stream cipher: final() has nothing left, and a copy of every chunk only for that would be garbage.
    return rest.length ? Buffer.concat([plain, rest]) : plain;
  } catch {
    return null;
  }
}

/**
 * Collects bytes and hands out fixed-size blocks: a view of the first part when it holds the whole block (the
 * common case: reads of 256 KiB against 64 KiB chunks), else one copy. Fewer new buffers per chunk matter: on
 * Node 26 an encrypted restore's node took 105-106 MiB against 115-119 with a copy per block and per opened chunk.
 */
export class BlockBuffer {
  private parts: Buffer[] = [];
  length = 0;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.parts.push(b);
    this.length += b.length;
  }

  take(n: number): Buffer {
    // Within the first part: a view of it, no copy (the parts are read, never written).
    const first = this.parts[0];
    if (first && first.length >= n) {
      this.parts[0] = first.subarray(n);
      if (!this.parts[0].length) this.parts.shift();
      this.length -= n;
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.parts[0]!;
      const k = Math.min(head.length, n - filled);
      head.copy(out, filled, 0, k);
      filled += k;
      if (k === head.length) this.parts.shift();
      else this.parts[0] = head.subarray(k);
    }
    this.length -= n;
    return out;
  }

  /** The first `n` bytes without consuming them (n <= length). */
  peek(n: number): Buffer {
    return Buffer.concat(this.parts, this.length).subarray(0, n);
  }
}

class StreamEncrypter extends Transform {
  private readonly buf = new BlockBuffer();
  private counter = 0;
  private prefixSent = false;

  constructor(
    private readonly prefix: Buffer,
    private readonly key: Buffer,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.prefixSent) this.sendPrefix();
    this.buf.push(chunk);
    // A full chunk is sealed only once more data follows: the last chunk must carry the last-chunk flag.
    while (this.buf.length > CHUNK) this.push(seal(this.key, this.counter++, false, this.buf.take(CHUNK)));
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (!this.prefixSent) this.sendPrefix();
    this.push(seal(this.key, this.counter++, true, this.buf.take(this.buf.length)));
    cb();
  }

  private sendPrefix(): void {
    this.prefixSent = true;
    this.push(this.prefix);
  }
}

class StreamDecrypter extends Transform {
  private readonly buf = new BlockBuffer();
  private key: Buffer | null = null;
  private counter = 0;
  /** Ciphertext bytes consumed so far (header included): where a failure happened, for the message. */
  private offset = 0;

  constructor(private readonly unwrap: (header: Uint8Array) => Promise<Uint8Array>) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.buf.push(chunk);
    if (this.key) {
      this.drain(cb);
      return;
    }
    this.readHeader().then(() => (this.key ? this.drain(cb) : cb()), cb);
  }

  override _flush(cb: TransformCallback): void {
    if (!this.key) {
      cb(truncated('the age header or its nonce is incomplete', this.offset + this.buf.length));
      return;
    }
    const rest = this.buf.take(this.buf.length);
    if (rest.length < TAG) {
      cb(truncated('the payload ends without its final chunk', this.offset));
      return;
    }
    const plain = openChunk(this.key, this.counter, true, rest);
    if (!plain) {
      cb(tampered(this.offset, true));
      return;
    }
    // The spec allows an empty final chunk only when the whole payload is empty: a full last chunk must carry
    // the flag itself. Accepting the other encoding would make two ciphertexts valid for one plaintext.
    if (plain.length === 0 && this.counter > 0) {
      cb(runtimeError('decrypt_failed', `the encrypted payload ends with an empty final chunk after ${this.counter} full ones, which age forbids: it is corrupt or was tampered with`));
      return;
    }
    this.push(plain);
    cb();
  }

  private drain(cb: TransformCallback): void {
    const key = this.key!;
    // Keep one full sealed chunk back: only at the end do we know whether it is the last one.
    while (this.buf.length > CHUNK + TAG) {
      const plain = openChunk(key, this.counter, false, this.buf.take(CHUNK + TAG));
      if (!plain) {
        cb(tampered(this.offset, false));
        return;
      }
      this.counter++;
      this.offset += CHUNK + TAG;
      this.push(plain);
    }
    cb();
  }

  private async readHeader(): Promise<void> {
    const opened = await openHeader(this.buf.peek(Math.min(this.buf.length, MAX_HEADER + NONCE_PREFIX)), this.unwrap);
    if (!opened) return; // wait for more bytes
    this.buf.take(opened.payloadStart);
    this.offset = opened.payloadStart;
    this.key = opened.key;
  }
}

/**
 * The payload key from the start of an age file (`seen`: its first bytes), and where the sealed chunks start;
 * null while `seen` ends before the header and nonce do. Throws LifeboatErrors for what is not age, a wrong
 * identity or a tampered header.
 */
export async function openHeader(seen: Buffer, unwrap: (header: Uint8Array) => Promise<Uint8Array>): Promise<{ key: Buffer; payloadStart: number } | null> {
  const macLine = seen.indexOf('\n--- ');
  const end = macLine < 0 ? -1 : seen.indexOf('\n', macLine + 1);
  if (end < 0 || seen.length < end + 1 + NONCE_PREFIX) {
    if (seen.length >= MAX_HEADER + NONCE_PREFIX || !seen.subarray(0, 21).equals(AGE_MAGIC.subarray(0, Math.min(21, seen.length)))) {
      throw runtimeError('decrypt_not_age', 'the encrypted payload is not an age file (its header is missing or corrupt)');
    }
    return null;
  }
  const header = seen.subarray(0, end + 1);
  const nonce = seen.subarray(end + 1, end + 1 + NONCE_PREFIX);
  let fileKey: Uint8Array;
  try {
    fileKey = await unwrap(header);
  } catch (e) {
    const msg = (e as Error).message ?? '';
    if (/no identity matched/.test(msg)) {
      throw runtimeError(
        'decrypt_wrong_identity',
        'none of the keys in the age identity file can decrypt this backup (it was encrypted to other recipients, ' +
          'or its header was altered)',
        'Use the identity whose public key fingerprint is listed in the manifest (payload.encryption.recipients)',
      );
    }
    throw runtimeError('decrypt_bad_header', `the age header of the encrypted payload is invalid or was tampered with (${msg})`);
  }
  return { key: payloadKey(fileKey, nonce), payloadStart: end + 1 + NONCE_PREFIX };
}

const AGE_MAGIC = Buffer.from('age-encryption.org/v1\n');

export function truncated(what: string, offset: number): Error {
  return runtimeError('decrypt_truncated', `the encrypted payload is truncated: ${what} (after ${offset} bytes)`);
}

export function tampered(offset: number, last: boolean): Error {
  return runtimeError(
    'decrypt_failed',
    `the encrypted payload failed authentication at byte ${offset}${last ? ' (final chunk)' : ''}: it is truncated, ` +
      'corrupt or was tampered with',
  );
}
