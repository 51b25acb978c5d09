import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stackConfig } from '../../infra/synth/synth';

test('an encrypted (secure:) stack value cannot be decrypted offline: it becomes a placeholder marked secret', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lb-synth-'));
  const stackFile = path.join(dir, 'Pulumi.enc.yaml');
  writeFileSync(stackFile, 'config:\n  lifeboat:alertToken:\n    secure: AAABAGx1c3Rlcg==\n  gcp:project: acme-prod\n');
  const { config, secretKeys } = stackConfig('enc', { stackFile });
  assert.deepEqual(secretKeys, ['lifeboat:alertToken']);
  assert.equal(config['lifeboat:alertToken'], 'offline-synth-placeholder');
  assert.ok(!Object.values(config).includes('AAABAGx1c3Rlcg=='), 'the ciphertext is not handed to the program');
  assert.equal(config['gcp:project'], 'acme-prod');
});
