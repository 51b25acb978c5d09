/**
 * Pulumi.pr.yaml, the Review Stacks template: it loads through the infra's own config loader exactly as a stack
 * file does (the synth's stackConfig → decodeConfigValues → parseConfig), it is ephemeral with everything that
 * implies, and its offline synth passes the policy pack.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { stackConfig } from '../../infra/synth/synth';
import { main as synthMain } from '../../infra/synth/cli';
import { decodeConfigValues, parseConfig } from '../../infra/config/load';
import { REPO_ROOT } from './dockerfile-model';

function sink(): Writable & { text: () => string } {
  let text = '';
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString('utf8');
      cb();
    },
  }) as Writable & { text: () => string };
  w.text = () => text;
  return w;
}

test('Pulumi.pr.yaml loads through the config loader as an ephemeral GCP stack', () => {
  const { config, secretKeys } = stackConfig('pr');
  assert.deepEqual(secretKeys, [], 'no secure values in a template copied into every review stack');
  const cfg = parseConfig(decodeConfigValues(config), 'pr');
  assert.equal(cfg.platform, 'gcp');
  assert.equal(cfg.ephemeral, true);
  assert.equal(cfg.role, 'primary');
  assert.equal(cfg.retentionLocked, false, 'a locked bucket could not be destroyed with the pull request');
  assert.equal(cfg.deletionProtection, false);
  assert.equal(cfg.drRegion, undefined);
  assert.ok(cfg.databases.length >= 1, 'a review stack protects at least one (throwaway) database');
  for (const db of cfg.databases) {
    assert.equal(db.instance?.mode, 'create', `${db.name}: review stacks never adopt a real instance`);
    assert.equal(db.instance?.highAvailability, false, `${db.name}: no standby for a throwaway instance`);
  }
  assert.match(cfg.runnerImage, /@sha256:[0-9a-f]{64}$/, 'pinned by digest');
});

test('the template also loads under a review stack name (Pulumi Deployments names each one after its pull request)', () => {
  const { config } = stackConfig('pr');
  const cfg = parseConfig(decodeConfigValues(config), 'pr-pulumi-acme-lifeboat-42');
  assert.equal(cfg.ephemeral, true);
  assert.match(cfg.namePrefix, /^[a-z][a-z0-9-]{1,20}$/);
});

test('two review stacks get their own Cloud SQL instance (names are unique per project, reused only after a week)', () => {
  const { config } = stackConfig('pr');
  const names = ['pr-pulumi-acme-lifeboat-42', 'pr-pulumi-acme-lifeboat-43'].map((stack) =>
    parseConfig(decodeConfigValues(config), stack).databases.map((d) => d.instance?.name),
  );
  assert.equal(names[0]!.length, names[1]!.length);
  names[0]!.forEach((name, i) => {
    assert.ok(name, 'every review database names its instance');
    assert.notEqual(name, names[1]![i], `both pull requests would hold instance ${name}`);
  });
  for (const db of parseConfig(decodeConfigValues(config), 'pr').databases) {
    assert.ok(db.managedBackup.retainedBackups > db.managedBackup.transactionLogRetentionDays, `${db.name}: Cloud SQL refuses retained backups <= log days`);
  }
});

test('the file sets only keys the infra declares, and no values that look like secrets', () => {
  const file = parseYaml(readFileSync(path.join(REPO_ROOT, 'Pulumi.pr.yaml'), 'utf8')) as { config: Record<string, unknown> };
  assert.equal(file.config['lifeboat:ephemeral'], true);
  const text = JSON.stringify(file.config);
  assert.doesNotMatch(text, /\w+:\/\/[^/\s:@"]+:[^/\s@"]+@/, 'no URL with a password');
  assert.doesNotMatch(text, /AGE-SECRET-KEY-|-----BEGIN/, 'no private keys');
  // A key the loader does not know is an error (parseConfig refuses it), so loading above proves this too;
  // this checks the failure is real: a misspelt key does not load.
  const { config } = stackConfig('pr');
  assert.throws(() => parseConfig(decodeConfigValues({ ...config, 'lifeboat:ephemaral': 'true' }), 'pr'), /lifeboat:ephemaral: unknown key/);
});

test('the offline synth of the review stack template passes the policy pack', async () => {
  const out = sink();
  const err = sink();
  const code = await synthMain(['pr', '--json'], out, err);
  assert.equal(code, 0, err.text() + out.text().slice(-2000));
  const result = JSON.parse(out.text()) as { stack: string; resources: Array<{ type: string; inputs: Record<string, unknown> }>; violations: unknown[] };
  assert.equal(result.stack, 'pr');
  assert.deepEqual(result.violations, []);
  const buckets = result.resources.filter((r) => r.type === 'gcp:storage/bucket:Bucket');
  assert.ok(buckets.length >= 1);
  for (const b of buckets) assert.equal(b.inputs.forceDestroy, true, 'ephemeral buckets are force-destroyable');
});
