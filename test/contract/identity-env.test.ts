import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { identityFrom } from '../../runner/cli/options';
import type { RunContext } from '../../runner/context';
import { redact } from '../../runner/redact';
import { silentLogger } from '../../runner/log';

const KEY = 'AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS0EXAMPLE';

function ctxWith(env: NodeJS.ProcessEnv): RunContext {
  const sink = { write: () => true };
  return { env, stdout: sink, stderr: sink, logger: silentLogger(), now: () => new Date(), signal: new AbortController().signal };
}

test('the identity comes from --identity-file, LIFEBOAT_AGE_IDENTITY_FILE, or LIFEBOAT_AGE_IDENTITY itself', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lb-id-'));
  const file = path.join(dir, 'key.txt');
  writeFileSync(file, `# created: now\n${KEY}\n`);
  assert.match((await identityFrom({ identityFile: file }, ctxWith({})))!, /AGE-SECRET-KEY-1/);
  assert.match((await identityFrom({}, ctxWith({ LIFEBOAT_AGE_IDENTITY_FILE: file })))!, /AGE-SECRET-KEY-1/);
  assert.equal(await identityFrom({}, ctxWith({ LIFEBOAT_AGE_IDENTITY: KEY })), KEY);
  assert.equal(await identityFrom({}, ctxWith({})), undefined);
});

test('an identity given through the environment is masked in every later log line', async () => {
  await identityFrom({}, ctxWith({ LIFEBOAT_AGE_IDENTITY: `${KEY}\n` }));
  assert.ok(!redact(`decrypt with ${KEY} failed`).includes(KEY));
});
