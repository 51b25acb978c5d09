import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetchArchive } from '../../runner/payload/fetch';
import type { CompleteBackup } from '../../runner/catalog/catalog';
import { recipientFingerprint } from '../../runner/crypto/age';
import { isLifeboatError } from '../../runner/errors';
import { silentLogger } from '../../runner/log';
import type { Storage } from '../../runner/storage/types';
import type { RunContext } from '../../runner/context';

async function keypair(): Promise<{ identity: string; recipient: string }> {
  const age = await import('age-encryption');
  const identity = await age.generateX25519Identity();
  return { identity, recipient: await age.identityToRecipient(identity) };
}

test('a wrong identity fails from the manifest alone, before a byte is downloaded', async () => {
  const owner = await keypair();
  const stranger = await keypair();
  let downloads = 0;
  const storage = {
    url: 'file:///nowhere',
    get: async () => {
      downloads++;
      throw new Error('must not download');
    },
  } as unknown as Storage;
  const backup = {
    id: '20261121T020000Z-3f9a',
    payloadKey: 'daily/postgres/shop/20261121T020000Z-3f9a/dump.pgc.zst.age',
    manifest: { payload: { encryption: { scheme: 'age', recipients: [recipientFingerprint(owner.recipient)] }, storedBytes: 1, sha256: '0'.repeat(64) } },
  } as unknown as CompleteBackup;
  const sink = { write: () => true };
  const ctx: RunContext = { env: {}, stdout: sink, stderr: sink, logger: silentLogger(), now: () => new Date(), signal: new AbortController().signal };
  await assert.rejects(fetchArchive(backup, storage, { identityText: stranger.identity + '\n' }, { ctx }), (e: unknown) => {
    assert.ok(isLifeboatError(e) && e.code === 'decrypt_wrong_identity' && e.exitCode === 1, String(e));
    assert.match((e as Error).message, /none of the keys in the age identity file can decrypt file:\/\/\/nowhere\/daily\/postgres\/shop\/.*encrypted to sha256:/);
    assert.ok(!(e as Error).message.includes(stranger.identity), 'the secret key is never printed');
    return true;
  });
  assert.equal(downloads, 0);
});
