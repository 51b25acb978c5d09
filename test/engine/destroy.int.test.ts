/**
 * Destroy under the real engine: an ephemeral review stack (Pulumi.pr.yaml) is destroyed whole, while the
 * production stack's protected resources (backup buckets, Cloud SQL instances) make `pulumi destroy` refuse.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prepareStack, pulumi } from '../../scripts/engine/session';
import { engineSession, ok, policyArgs, tail } from './helpers';

interface ExportedState {
  deployment: { resources?: { urn: string; type: string; protect?: boolean }[] };
}

function resources(s: Parameters<typeof ok>[0], stack: string): ExportedState['deployment']['resources'] & object {
  const r = ok(s, ['stack', 'export', '--stack', stack], `pulumi stack export --stack ${stack}`);
  return (JSON.parse(r.stdout) as ExportedState).deployment.resources ?? [];
}

describe('destroy under the real engine', () => {
  it('destroys the ephemeral review stack whole', () => {
    const { session, cleanup } = engineSession();
    try {
      prepareStack(session, 'pr');
      ok(session, ['up', '--stack', 'pr', '--yes', '--skip-preview', ...policyArgs(session)], 'up pr');
      assert.ok(resources(session, 'pr').length > 10, 'the review stack created too few resources to be meaningful');
      ok(session, ['destroy', '--stack', 'pr', '--yes'], 'destroy pr');
      assert.deepEqual(resources(session, 'pr').map((r) => r.urn), [], 'resources are left after destroying the review stack');
    } finally {
      cleanup();
    }
  });

  it("refuses to destroy prod's protected resources, and keeps them", () => {
    const { session, cleanup } = engineSession();
    try {
      prepareStack(session, 'prod');
      ok(session, ['up', '--stack', 'prod', '--yes', '--skip-preview', ...policyArgs(session)], 'up prod');
      const protectedUrns = resources(session, 'prod').filter((r) => r.protect).map((r) => r.urn);
      for (const type of ['gcp:storage/bucket:Bucket', 'gcp:sql/databaseInstance:DatabaseInstance']) {
        assert.ok(protectedUrns.some((u) => u.includes(`$${type}::`) || u.includes(`::${type}::`)), `no protected ${type} in prod`);
      }
      const destroy = pulumi(session, ['destroy', '--stack', 'prod', '--yes'], { capture: true });
      assert.notEqual(destroy.status, 0, `destroy of prod succeeded although it holds protected resources:\n${tail(destroy)}`);
      assert.match(`${destroy.stdout}${destroy.stderr}`, /protect/i, `destroy failed for another reason than protection:\n${tail(destroy)}`);
      const left = resources(session, 'prod').map((r) => r.urn);
      for (const urn of protectedUrns) assert.ok(left.includes(urn), `protected resource ${urn} is gone after the refused destroy`);
    } finally {
      cleanup();
    }
  });
});
