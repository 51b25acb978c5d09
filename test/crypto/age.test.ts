import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  createDecryptor,
  createEncryptor,
  identityFingerprints,
  parseIdentities,
  recipientFingerprint,
} from '../../runner/crypto/age';
import { openRandomAccess } from '../../runner/crypto/age-range';
import { LifeboatError } from '../../runner/errors';

async function keypair(): Promise<{ identity: string; recipient: string }> {
  const age = await import('age-encryption');
  const identity = await age.generateX25519Identity();
  return { identity, recipient: await age.identityToRecipient(identity) };
}

/** Pieces of uneven sizes, so chunk boundaries fall everywhere. */
function source(data: Buffer, piece = 7777): Readable {
  let pos = 0;
  return new Readable({
    read() {
      if (pos >= data.length) return void this.push(null);
      this.push(data.subarray(pos, pos + piece));
      pos += piece;
    },
  });
}

async function collect(src: Readable, ...stages: NodeJS.ReadWriteStream[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(
    src,
    ...(stages as [NodeJS.ReadWriteStream]),
    new Writable({
      write(c: Buffer, _e, cb) {
        parts.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

async function encrypt(data: Buffer, recipients: string[]): Promise<Buffer> {
  const enc = await createEncryptor(recipients);
  return collect(source(data), enc.stream);
}

async function decrypt(cipher: Buffer, identity: string, piece?: number): Promise<Buffer> {
  return collect(source(cipher, piece), await createDecryptor(identity));
}

const SIZES = [0, 1, 65535, 65536, 65537, 3 * 65536, 200_000];

test('round trip at chunk-boundary sizes', async () => {
  const { identity, recipient } = await keypair();
  for (const n of SIZES) {
    const data = randomBytes(n);
    const cipher = await encrypt(data, [recipient]);
    assert.deepEqual(await decrypt(cipher, identity), data, `size ${n}`);
  }
});

test('what we encrypt, the age library decrypts, and the reverse (the format is real age)', async () => {
  const age = await import('age-encryption');
  const { identity, recipient } = await keypair();
  for (const n of [0, 1, 65535, 65536, 65537, 131072, 131072 + 5]) {
    const data = randomBytes(n);
    const ours = await encrypt(data, [recipient]);
    const d = new age.Decrypter();
    d.addIdentity(identity);
    assert.deepEqual(Buffer.from(await d.decrypt(ours)), data, `library decrypts ours, size ${n}`);

    const e = new age.Encrypter();
    e.addRecipient(recipient);
    const theirs = Buffer.from(await e.encrypt(data));
    assert.deepEqual(await decrypt(theirs, identity), data, `we decrypt the library's, size ${n}`);
  }
});

test('several recipients: each identity alone decrypts; fingerprints are recorded for each', async () => {
  const a = await keypair();
  const b = await keypair();
  const data = randomBytes(100_000);
  const enc = await createEncryptor([a.recipient, b.recipient, a.recipient]);
  const cipher = await collect(source(data), enc.stream);
  assert.deepEqual(enc.fingerprints, [recipientFingerprint(a.recipient), recipientFingerprint(b.recipient)]);
  assert.deepEqual(await decrypt(cipher, a.identity), data);
  assert.deepEqual(await decrypt(cipher, `# comment\n${b.identity}\n`), data);
  assert.deepEqual(await identityFingerprints(b.identity), [recipientFingerprint(b.recipient)]);
});

test('fingerprint: short, stable, not the key', () => {
  const r = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
  const f = recipientFingerprint(r);
  assert.match(f, /^sha256:[0-9a-f]{16}$/);
  assert.equal(recipientFingerprint(` ${r.toUpperCase()} `), f);
  assert.equal(f, 'sha256:' + createHash('sha256').update(r).digest('hex').slice(0, 16));
  assert.ok(!f.includes(r.slice(4, 20)));
});

async function rejects(p: Promise<unknown>, code: string): Promise<LifeboatError> {
  let err: unknown;
  await p.catch((e: unknown) => (err = e));
  assert.ok(err instanceof LifeboatError, `expected a LifeboatError ${code}, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  return err;
}

test('wrong identity: exit 1 with a clear message, no plaintext', async () => {
  const a = await keypair();
  const other = await keypair();
  const cipher = await encrypt(randomBytes(1000), [a.recipient]);
  const err = await rejects(decrypt(cipher, other.identity), 'decrypt_wrong_identity');
  assert.equal(err.exitCode, 1);
  assert.match(err.message, /none of the keys in the age identity file/);
  assert.ok(!err.message.includes(other.identity), 'the secret key is not echoed');
});

test('truncated ciphertext fails, also exactly at a chunk boundary and inside the header', async () => {
  const { identity, recipient } = await keypair();
  const cipher = await encrypt(randomBytes(3 * 65536 + 100), [recipient]);
  const headerLen = cipher.indexOf('\n', cipher.indexOf('\n--- ') + 1) + 1 + 16;
  const cuts = [
    cipher.length - 1,
    cipher.length - 116, // drops the whole final chunk: ends at a chunk boundary
    headerLen + 2 * (65536 + 16), // two whole chunks, nothing after
    headerLen, // header and nonce only
    20, // inside the header
  ];
  for (const cut of cuts) {
    const inPayload = cut > headerLen;
    const err = await rejects(decrypt(cipher.subarray(0, cut), identity), inPayload ? 'decrypt_failed' : 'decrypt_truncated');
    assert.equal(err.exitCode, 1);
  }
});

test('a flipped bit anywhere fails authentication', async () => {
  const { identity, recipient } = await keypair();
  const cipher = await encrypt(randomBytes(2 * 65536 + 10), [recipient]);
  for (const [pos, code] of [
    [cipher.length - 5, 'decrypt_failed'],
    [cipher.length - 70_000, 'decrypt_failed'],
    [cipher.indexOf('\n--- ') + 8, 'decrypt_bad_header'],
    [30, 'decrypt_wrong_identity'], // inside the recipient stanza: no key matches any more
  ] as const) {
    const bad = Buffer.from(cipher);
    bad[pos] ^= 0x01;
    await rejects(decrypt(bad, identity), code);
  }
});

/**
 * An age file built by hand from a file key the test knows, so the payload layer can be given shapes a correct
 * encrypter never produces (the header still comes from the library).
 */
async function handmade(recipient: string, chunks: { plain: Buffer; last: boolean; counter?: number }[]): Promise<Buffer> {
  const age = await import('age-encryption');
  const e = new age.Encrypter();
  let fileKey: Uint8Array | undefined;
  e.addRecipient({ wrapFileKey: (k: Uint8Array) => ((fileKey = k), []) });
  e.addRecipient(recipient);
  const empty = Buffer.from(await e.encrypt(new Uint8Array(0)));
  const prefix = empty.subarray(0, empty.length - 16);
  const key = Buffer.from(hkdfSync('sha256', fileKey!, prefix.subarray(prefix.length - 16), 'payload', 32));
  const sealed = chunks.map(({ plain, last, counter }, i) => {
    const nonce = Buffer.alloc(12);
    nonce.writeUInt32BE(counter ?? i, 7);
    nonce[11] = last ? 1 : 0;
    const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  });
  return Buffer.concat([prefix, ...sealed]);
}

test('the hand-built reference file decrypts (so the cases below fail for the reason they name)', async () => {
  const { identity, recipient } = await keypair();
  const a = randomBytes(65536);
  const b = randomBytes(10);
  const good = await handmade(recipient, [{ plain: a, last: false }, { plain: b, last: true }]);
  assert.deepEqual(await decrypt(good, identity), Buffer.concat([a, b]));
});

test('reordered, replayed or appended chunks and a non-canonical empty final chunk fail authentication', async () => {
  const age = await import('age-encryption');
  const { identity, recipient } = await keypair();
  const [a, b, c] = [randomBytes(65536), randomBytes(65536), randomBytes(99)];
  const cases: Record<string, { plain: Buffer; last: boolean; counter?: number }[]> = {
    // Chunks swapped: each one's counter no longer matches its position.
    reordered: [{ plain: b, last: false, counter: 1 }, { plain: a, last: false, counter: 0 }, { plain: c, last: true }],
    // A chunk repeated in place of another.
    replayed: [{ plain: a, last: false }, { plain: a, last: false, counter: 0 }, { plain: c, last: true }],
    // The last-chunk flag set on a chunk that is not last (something follows it).
    'flagged chunk in the middle': [{ plain: a, last: true }, { plain: c, last: true, counter: 1 }],
    // A full final chunk must carry the flag itself: an extra empty final chunk is forbidden by the spec.
    'empty final chunk after a full one': [{ plain: a, last: false }, { plain: Buffer.alloc(0), last: true }],
    // No chunk carries the flag: the stream was cut exactly at a chunk boundary.
    'no final chunk': [{ plain: a, last: false }, { plain: b, last: false }],
  };
  for (const [label, chunks] of Object.entries(cases)) {
    const file = await handmade(recipient, chunks);
    const err = await rejects(decrypt(file, identity), 'decrypt_failed');
    assert.equal(err.exitCode, 1, label);
    // The age library agrees that each of these is not a valid age file.
    const d = new age.Decrypter();
    d.addIdentity(identity);
    await assert.rejects(d.decrypt(file), `the library also refuses: ${label}`);
  }
  const good = await encrypt(Buffer.concat([a, c]), [recipient]);
  const appended = Buffer.concat([good, randomBytes(40)]);
  await rejects(decrypt(appended, identity), 'decrypt_failed');
});

test('not an age file', async () => {
  const { identity } = await keypair();
  await rejects(decrypt(randomBytes(5000), identity), 'decrypt_not_age');
});

test('bad recipients and identity files are usage errors naming what was expected', async () => {
  const e1 = await rejects(createEncryptor(['ssh-ed25519 AAAA']), 'bad_recipient');
  assert.equal(e1.exitCode, 2);
  assert.match(e1.message, /expected an age recipient \(age1\.\.\.\), got "ssh-ed25519 AAAA"/);
  await rejects(createEncryptor([]), 'bad_recipient');
  await rejects(createEncryptor(['age1notavalidkey']), 'bad_recipient');
  assert.throws(() => parseIdentities('# only a comment\n'), /holds no key/);
  assert.throws(() => parseIdentities('AGE-SECRET-KEY-1ABC\nhunter2'), (e: Error) => /line 2/.test(e.message) && !e.message.includes('hunter2'));
});

test('memory stays bounded: 200 MB streamed through encrypt and decrypt', async () => {
  const { identity, recipient } = await keypair();
  const enc = await createEncryptor([recipient]);
  const dec = await createDecryptor(identity);
  const block = randomBytes(1 << 20);
  let sent = 0;
  const total = 200 * (1 << 20);
  const src = new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      sent += block.length;
      this.push(block);
    },
  });
  const inHash = createHash('sha256');
  const outHash = createHash('sha256');
  let received = 0;
  let peakRss = 0;
  for (let i = 0; i < total / block.length; i++) inHash.update(block);
  await pipeline(
    src,
    enc.stream,
    dec,
    new Writable({
      write(c: Buffer, _e, cb) {
        outHash.update(c);
        received += c.length;
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        cb();
      },
    }),
  );
  assert.equal(received, total);
  assert.equal(outHash.digest('hex'), inHash.digest('hex'));
  // Not a timing assertion: a buffered implementation would hold 400 MB+.
  assert.ok(peakRss < 250 * (1 << 20), `peak RSS ${Math.round(peakRss / (1 << 20))} MiB`);
});

test('random access: any plaintext range decrypts from the chunks that hold it, at every size around chunk boundaries', async () => {
  const { identity, recipient } = await keypair();
  const C = 64 * 1024;
  for (const size of [0, 1, C - 1, C, C + 1, 3 * C, 3 * C + 5]) {
    const plain = randomBytes(size);
    const enc = await createEncryptor([recipient]);
    const sealed = await collect(source(plain), enc.stream);
    const ra = await openRandomAccess(identity, sealed.subarray(0, 4096), sealed.length);
    assert.ok(ra);
    assert.equal(ra.plainBytes, size);
    const cuts = [...new Set([0, 1, C - 1, C, C + 1, 2 * C + 3, size - 1, size].filter((x) => x >= 0 && x <= size))];
    for (const a of cuts) {
      for (const b of cuts) {
        if (b <= a) continue;
        const r = ra.storedRange(a, b);
        const got = await collect(Readable.from([sealed.subarray(r.start, r.end)]), ra.rangeDecryptor(a, b));
        assert.ok(got.equals(plain.subarray(a, b)), `size ${size}: ${a}-${b}`);
      }
    }
  }
});

test('random access: a flipped bit in a range, or a range cut short, fails; a wrong identity fails as when streaming', async () => {
  const { identity, recipient } = await keypair();
  const plain = randomBytes(200_000);
  const sealed = await collect(source(plain), (await createEncryptor([recipient])).stream);
  const ra = (await openRandomAccess(identity, sealed.subarray(0, 4096), sealed.length))!;
  const r = ra.storedRange(70_000, 140_000);
  const bad = Buffer.from(sealed.subarray(r.start, r.end));
  bad[bad.length - 100]! ^= 1;
  await assert.rejects(collect(Readable.from([bad]), ra.rangeDecryptor(70_000, 140_000)), (e: LifeboatError) => e.code === 'decrypt_failed');
  await assert.rejects(collect(Readable.from([sealed.subarray(r.start, r.end - 20)]), ra.rangeDecryptor(70_000, 140_000)), (e: LifeboatError) => e.code.startsWith('decrypt_'));
  const other = await keypair();
  await assert.rejects(openRandomAccess(other.identity, sealed.subarray(0, 4096), sealed.length), (e: LifeboatError) => e.code === 'decrypt_wrong_identity');
  assert.equal(await openRandomAccess(identity, sealed.subarray(0, 30), sealed.length), null, 'the header is not whole yet');
});

test('BlockBuffer hands out blocks in order: a view when the first part holds the block, a copy across parts', async () => {
  const { BlockBuffer } = await import('../../runner/crypto/age');
  const b = new BlockBuffer();
  const a = Buffer.from('abcdefgh');
  b.push(a);
  b.push(Buffer.from('ijk'));
  const view = b.take(3);
  assert.equal(view.toString(), 'abc');
  assert.equal(view.buffer, a.buffer, 'within the first part: no copy');
  assert.equal(b.take(5).toString(), 'defgh', 'the rest of the first part');
  b.push(Buffer.from('lm'));
  const across = b.take(4);
  assert.equal(across.toString(), 'ijkl', 'across parts');
  assert.equal(b.length, 1);
  assert.equal(b.take(1).toString(), 'm');
  assert.equal(b.length, 0);
});
