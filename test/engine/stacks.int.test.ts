/**
 * Every example stack under the real Pulumi engine (CLI, Node.js language host, TypeScript loading, the policy
 * pack) against the test-double providers: it previews and ups with the pack enforcing, a second preview after
 * `up` shows no changes (the program is deterministic), and no secret is in plain text in the state file.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { MOCK_SECRET_DATA } from '../../infra/synth/mocks';
import { exampleStacks, prepareStack, stateFile } from '../../scripts/engine/session';
import { changeSummary, engineSession, ok, policyArgs, secretPlaintexts } from './helpers';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

describe('example stacks under the real engine', () => {
  for (const stack of exampleStacks()) {
    it(`${stack}: preview and up pass the policy pack, a second preview is empty, the state holds no plain secret`, () => {
      const { session, cleanup } = engineSession();
      try {
        prepareStack(session, stack);
        const preview = ok(session, ['preview', '--stack', stack, ...policyArgs(session)], `preview ${stack}`);
        assert.match(preview.stdout, /lifeboat@v\d/, 'the policy pack did not run in preview');
        const up = ok(session, ['up', '--stack', stack, '--yes', '--skip-preview', ...policyArgs(session)], `up ${stack}`);
        assert.match(up.stdout, /lifeboat@v\d/, 'the policy pack did not run in up');

        const again = ok(
          session,
          ['preview', '--stack', stack, '--json', '--expect-no-changes', ...policyArgs(session)],
          `second preview of ${stack} (expected no changes)`,
        );
        const summary = changeSummary(again);
        assert.deepEqual(Object.keys(summary), ['same'], `second preview of ${stack} is not empty: ${JSON.stringify(summary)}`);

        const state = readFileSync(stateFile(session, stack), 'utf8');
        const secrets = secretPlaintexts(session, stack);
        // Not vacuous: every generated password (and its hash) must have been found as a secret to search for.
        const passwords = (state.match(/"type":\s*"random:index\/randomPassword:RandomPassword"/g) ?? []).length;
        assert.ok(secrets.length >= 2 * passwords, `${stack} has ${passwords} random passwords but only ${secrets.length} secrets in state`);
        // The state file, its backup and the update history: every file the backend wrote.
        const written = filesUnder(session.backendDir).map((f) => ({ f, text: readFileSync(f, 'utf8') }));
        for (const secret of [...secrets, MOCK_SECRET_DATA]) {
          for (const { f, text } of written) {
            assert.ok(!text.includes(secret), `a secret value (${secret.length} characters) is in plain text in ${path.relative(session.backendDir, f)}`);
          }
        }
      } finally {
        cleanup();
      }
    });
  }
});
