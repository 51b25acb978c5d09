/**
 * The disaster-recovery flow of docs/disaster-recovery.md under the real engine, its stacks in one backend:
 * the primary stack is up; step 4 brings up the DR stack with the policy pack and the region on the command
 * line; step 5 and 7 read the outputs the docs tell the operator to read; step 8 destroys the DR stack, which
 * hands its instances over, and brings up Pulumi.prod-recovered.yaml, which adopts them. The commands' cloud side (gcloud) is out of reach here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { REPO_ROOT } from '../../scripts/engine/paths';
import { prepareStack } from '../../scripts/engine/session';
import { engineSession, ok, policyArgs } from './helpers';

type Config = { config: Record<string, unknown> };

function stackFile(stack: string): Config {
  return YAML.parse(readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), 'utf8')) as Config;
}

function output(s: Parameters<typeof ok>[0], stack: string, name: string): unknown {
  return JSON.parse(ok(s, ['stack', 'output', name, '--stack', stack, '--json'], `pulumi stack output ${name}`).stdout);
}

/** Names GCP keeps unique per project or worldwide, for every bucket, service account and secret of a stack. */
function globalNames(s: Parameters<typeof ok>[0], stack: string): Set<string> {
  const exported = JSON.parse(ok(s, ['stack', 'export', '--stack', stack], `pulumi stack export --stack ${stack}`).stdout) as {
    deployment: { resources?: { type: string; inputs?: Record<string, unknown> }[] };
  };
  const key: Record<string, string> = {
    'gcp:storage/bucket:Bucket': 'name',
    'gcp:serviceaccount/account:Account': 'accountId',
    'gcp:secretmanager/secret:Secret': 'secretId',
  };
  const names = new Set<string>();
  for (const r of exported.deployment.resources ?? []) {
    const k = key[r.type];
    const v = k ? r.inputs?.[k] : undefined;
    if (typeof v === 'string') names.add(`${r.type.split(':').pop()} ${v}`);
  }
  return names;
}

describe('disaster recovery as docs/disaster-recovery.md tells it', () => {
  it('primary up, DR stack up in the DR region, restore and repoint commands, a new primary adopting the recovered instances', () => {
    const { session, cleanup } = engineSession();
    try {
      prepareStack(session, 'prod');
      ok(session, ['up', '--stack', 'prod', '--yes', '--skip-preview', ...policyArgs(session)], 'up prod');
      const dr = stackFile('dr').config;
      const recovery = dr['lifeboat:recovery'] as { backupBucket: string };
      assert.equal(recovery.backupBucket, output(session, 'prod', 'drBucket'), "Pulumi.dr.yaml's recovery.backupBucket is not prod's drBucket output");

      // Step 4.
      const drRegion = 'europe-north1';
      prepareStack(session, 'dr');
      ok(session, ['up', '--stack', 'dr', '--yes', ...policyArgs(session), '-c', `gcp:region=${drRegion}`], 'step 4: up dr');

      // Step 5: one restore command per database, in the DR region, and the same as one command line.
      const databases = (dr['lifeboat:databases'] as { name: string }[]).map((d) => d.name).sort();
      const restoreCommands = output(session, 'dr', 'restoreCommands') as Record<string, string>;
      assert.deepEqual(Object.keys(restoreCommands).sort(), databases);
      for (const [db, command] of Object.entries(restoreCommands)) {
        assert.match(command, new RegExp(`^gcloud run jobs execute \\S+-${db}-restore .*--region ${drRegion}`), `restore command of ${db}`);
      }
      const oneLine = (output(session, 'dr', 'restoreCommand') as string).split(' && ').sort();
      assert.deepEqual(oneLine, Object.values(restoreCommands).sort(), 'restoreCommand is not the restore commands joined');
      const jobs = output(session, 'dr', 'restoreJobs') as Record<string, Record<string, string>>;
      for (const db of databases) {
        for (const key of ['job', 'project', 'region', 'database', 'connectionName', 'recoveryUrlSecret']) {
          assert.ok(jobs[db]?.[key], `restoreJobs.${db}.${key} is missing`);
        }
        assert.equal(jobs[db].region, drRegion);
      }

      // Step 7: a repoint command for each database that names its application secret.
      const repoint = output(session, 'dr', 'repointApplicationCommands') as Record<string, string>;
      const withApp = (dr['lifeboat:databases'] as { name: string; secrets?: { application?: string } }[]).filter((d) => d.secrets?.application);
      assert.deepEqual(Object.keys(repoint).sort(), withApp.map((d) => d.name).sort());
      for (const d of withApp) assert.match(repoint[d.name], new RegExp(`secrets versions add ${d.secrets?.application}`));

      // Step 8: hand the recovered instances over (destroying the dr stack forgets them, leaves them running), then
      // the committed stack that protects them, adopting exactly the instances the dr stack made.
      ok(session, ['destroy', '--stack', 'dr', '--yes', '--skip-preview'], 'step 8: pulumi destroy --stack dr');
      const recovered = stackFile('prod-recovered');
      assert.equal(recovered.config['gcp:region'], drRegion);
      const adopted = (recovered.config['lifeboat:databases'] as { name: string; instance: { mode: string; name: string } }[]);
      for (const d of adopted) {
        assert.equal(d.instance.mode, 'adopt');
        assert.equal(d.instance.name, jobs[d.name]!.instance, `prod-recovered adopts ${d.name}'s recovery instance`);
      }
      prepareStack(session, 'prod-recovered', recovered);
      ok(session, ['up', '--stack', 'prod-recovered', '--yes', ...policyArgs(session)], 'step 8: up the stack protecting the recovered databases');

      // The old primary's buckets, service accounts and secrets still exist (step 9 keeps them), and their names
      // are unique per project or worldwide: the new primary must not reuse one, or its real `up` fails on it. The
      // secrets it shares with the old stack are named in gcp.existingSecrets and never created.
      const oldNames = globalNames(session, 'prod');
      for (const name of globalNames(session, 'prod-recovered')) {
        assert.ok(!oldNames.has(name), `step 8's new primary reuses the old primary's ${name}; the cloud would refuse it`);
      }
    } finally {
      cleanup();
    }
  });
});
