/**
 * The policy pack enforces under the real engine: with a threshold no example stack meets (given through
 * `--policy-pack-config`, as docs/policies.md tells), `preview` fails and names the rule and the resource.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { prepareStack, pulumi } from '../../scripts/engine/session';
import { engineSession, policyArgs, tail } from './helpers';

describe('the policy pack under the real engine', () => {
  it('blocks a preview that violates a mandatory rule, naming the rule and the resource', () => {
    const { session, cleanup } = engineSession();
    try {
      prepareStack(session, 'staging');
      const config = path.join(session.stateDir, 'policy-config.json');
      writeFileSync(config, JSON.stringify({ 'cloudsql-retained-backups': { minRetainedBackups: 1000 } }));
      const r = pulumi(session, ['preview', '--stack', 'staging', ...policyArgs(session), '--policy-pack-config', config], { capture: true });
      const out = `${r.stdout}\n${r.stderr}`;
      assert.notEqual(r.status, 0, `preview passed although the pack was told to want 1000 retained backups:\n${tail(r)}`);
      assert.match(out, /\[mandatory\]\s+cloudsql-retained-backups/, `the violation is not reported as the mandatory rule:\n${tail(r)}`);
      assert.match(out, /db-orders-instance/, `the violating resource is not named:\n${tail(r)}`);
    } finally {
      cleanup();
    }
  });
});
