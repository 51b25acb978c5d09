/**
 * The engine's own pieces without the engine: the message a missing build gives, and the test-double provider's
 * answers (URN parsing, random values, imports, Kubernetes names, canned outputs).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { enginePaths, engineMissing, pulumiVersion } from '../../scripts/engine/paths';
import { createTestDoubleProvider, existingResource, parseUrn } from '../../scripts/engine/test-double/provider';

const urn = (type: string, name: string) => `urn:pulumi:prod::lifeboat::lifeboat:gcp:Vault$${type}::${name}`;

describe('engine paths', () => {
  it('keys the cache by the pinned @pulumi/pulumi version', () => {
    assert.match(pulumiVersion(), /^\d+\.\d+\.\d+$/);
    assert.match(enginePaths().dir, new RegExp(`\\.cache/engine/pulumi-${pulumiVersion().replace(/\./g, '\\.')}$`));
  });

  it('names the build command when the engine is missing', () => {
    const message = engineMissing(enginePaths('0.0.0-not-built'));
    assert.match(message ?? '', /Pulumi engine 0\.0\.0-not-built is not built .*npm run engine -- build.*Go toolchain/);
  });
});

describe('the test-double provider', () => {
  it('parses a nested URN', () => {
    assert.deepEqual(parseUrn(urn('gcp:storage/bucket:Bucket', 'vault-bucket')), { type: 'gcp:storage/bucket:Bucket', name: 'vault-bucket' });
    assert.throws(() => parseUrn('nonsense'), /not a resource URN/);
  });

  it('makes a fresh random password of the asked length, kept across updates', async () => {
    const p = createTestDoubleProvider('random', '4.0.0');
    const u = urn('random:index/randomPassword:RandomPassword', 'pw');
    const a = await p.create!(u, { length: 32, special: false });
    const b = await p.create!(u, { length: 32, special: false });
    assert.match(a.outs.result, /^[A-Za-z0-9]{32}$/);
    assert.notEqual(a.outs.result, b.outs.result);
    const updated = await p.update!(a.id, u, a.outs, { length: 32, special: false, keepers: { x: '1' } });
    assert.equal(updated.outs.result, a.outs.result);
  });

  it('returns canned outputs for cloud resources and answers provider functions', async () => {
    const p = createTestDoubleProvider('gcp', '9.0.0');
    const made = await p.create!(urn('gcp:serviceaccount/account:Account', 'sa'), { accountId: 'runner', project: 'acme' });
    assert.equal(made.outs.email, 'runner@acme.iam.gserviceaccount.com');
    const project = await p.invoke!('gcp:organizations/getProject:getProject', { projectId: 'acme' });
    assert.equal(project.outputs.projectId, 'acme');
    await assert.rejects(async () => p.invoke!('gcp:nothing/nothing:nothing', {}), /do not answer provider function/);
  });

  it('imports an adopted instance as it was left, without Lifeboat settings', async () => {
    const p = createTestDoubleProvider('gcp', '9.0.0');
    const read = await p.read!('projects/acme/instances/orders-pg', urn('gcp:sql/databaseInstance:DatabaseInstance', 'db'), {});
    assert.equal(read.inputs.name, 'orders-pg');
    assert.equal(read.inputs.settings.backupConfiguration, undefined);
    assert.equal(read.props.connectionName, 'acme:mock-region:orders-pg');
    assert.deepEqual(existingResource('aws:rds/instance:Instance', 'orders-pg').identifier, 'orders-pg');
  });

  it('names an unnamed Kubernetes object after its resource', async () => {
    const p = createTestDoubleProvider('kubernetes', '4.0.0');
    const made = await p.create!(urn('kubernetes:core/v1:ServiceAccount', 'backup-sa'), { metadata: { namespace: 'lifeboat' } });
    assert.equal(made.id, 'lifeboat/backup-sa');
    assert.equal(made.outs.metadata.name, 'backup-sa');
  });
});
