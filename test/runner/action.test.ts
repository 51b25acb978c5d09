import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAction } from '../../runner/cli/action';
import { silentLogger } from '../../runner/log';
import { EVENTS } from '../../runner/contract/events';

test('the one line for a person is redacted like the logs: a credential in an error never reaches stderr', async () => {
  let text = '';
  const ctx = {
    env: {},
    stdout: { write: () => true },
    stderr: { write: (s: string) => ((text += s), true) },
    logger: silentLogger(),
    now: () => new Date(),
    signal: new AbortController().signal,
  };
  const code = await runAction(ctx, { succeeded: EVENTS.backupSucceeded, failed: EVENTS.backupFailed }, {}, async () => {
    throw new Error('tool said: could not connect to postgres://backup:s3cret-Pw@db.internal/shop');
  });
  assert.equal(code, 1);
  assert.equal(text, 'lifeboat: tool said: could not connect to postgres://backup:***@db.internal/shop\n');
});
