/**
 * "A new organization runs the docs": what a first `pulumi up` (and the preview before it) of a GCP stack needs
 * from the program, checked on the resources the offline synth records: their inputs, options and dependencies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { synthStack, type SynthResult } from '../../../infra/synth/synth';
import type { RecordedResource } from '../../../infra/synth/recorded';
import { MOCK_PROJECT_NUMBER } from '../../../infra/synth/mocks';
import { promMetricName } from '../../../infra/gcp/alertRules';
import { requiredServices } from '../../../infra/gcp/ProjectServices';
import { artifactRegistryOf } from '../../../infra/gcp/imageRegistry';
import { placeholderText } from '../../../infra/gcp/RunnerSecrets';
import { finalEvent, runCli } from '../../runner/cli-harness';

const cache = new Map<string, Promise<SynthResult>>();
function synth(stack: string, preview = false): Promise<SynthResult> {
  const key = `${stack}:${preview}`;
  if (!cache.has(key)) cache.set(key, synthStack(stack, { preview }));
  return cache.get(key)!;
}
const ofType = (r: SynthResult, type: string) => r.resources.filter((x) => x.type === type);
const get = (o: unknown, ...keys: (string | number)[]): unknown => keys.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], o);
const GCP_STACKS = ['prod', 'staging', 'pr', 'dr', 'prod-recovered'];

test('alert policies need no metric to exist when they are created: PromQL without metric validation, or log-match', async () => {
  for (const stack of ['prod', 'staging', 'pr', 'prod-recovered']) {
    const r = await synth(stack);
    const policies = ofType(r, 'gcp:monitoring/alertPolicy:AlertPolicy');
    assert.ok(policies.length >= 4, `${stack}: alert policies`);
    for (const p of policies) {
      for (const c of p.inputs.conditions as Array<Record<string, unknown>>) {
        // A threshold or absence condition on a log-based metric is refused (404) until the metric has data.
        assert.equal(c.conditionThreshold, undefined, `${stack} ${p.name}: threshold condition`);
        assert.equal(c.conditionAbsent, undefined, `${stack} ${p.name}: absence condition`);
        const prom = c.conditionPrometheusQueryLanguage as { query: string; disableMetricValidation: boolean } | undefined;
        assert.ok(prom || c.conditionMatchedLog, `${stack} ${p.name}: PromQL or log-match`);
        if (prom) assert.equal(prom.disableMetricValidation, true, `${stack} ${p.name}`);
      }
    }
  }
  const prod = await synth('prod');
  const failed = prod.resources.find((x) => x.name === 'alerts-backup-failed')!;
  const query = String(get(failed.inputs, 'conditions', 0, 'conditionPrometheusQueryLanguage', 'query'));
  assert.equal(promMetricName('lifeboat-prod-events'), 'logging_googleapis_com:user_lifeboat_prod_events');
  assert.match(query, /^sum by \(source\) \(increase\(logging_googleapis_com:user_lifeboat_prod_events\{monitored_resource="cloud_run_job",event=~"backup\\\\\.failed\|redis\\\\\.backup\\\\\.failed"\}\[300s\]\)\) > 0$/);
  const stale = prod.resources.find((x) => x.name === 'alerts-backup-stale')!;
  const silence = String(get(stale.inputs, 'conditions', 1, 'conditionPrometheusQueryLanguage', 'query'));
  for (const source of ['orders', 'billing', 'sessions']) assert.match(silence, new RegExp(`absent_over_time\\([^)]*source="${source}"[^)]*\\[10800s\\]\\)`));
});

test('every job can be created before anyone writes a secret: each secret it reads has a first (placeholder) version it waits for', async () => {
  for (const stack of GCP_STACKS) {
    const r = await synth(stack);
    const secrets = new Map(ofType(r, 'gcp:secretmanager/secret:Secret').map((s) => [String(s.inputs.secretId), s]));
    const versions = ofType(r, 'gcp:secretmanager/secretVersion:SecretVersion');
    for (const job of ofType(r, 'gcp:cloudrunv2/job:Job')) {
      const envs = get(job.inputs, 'template', 'template', 'containers', 0, 'envs') as Array<{ name: string; valueSource?: { secretKeyRef: { secret: string } } }>;
      for (const e of envs.filter((x) => x.valueSource)) {
        const id = e.valueSource!.secretKeyRef.secret;
        const secret = secrets.get(id);
        if (!secret) continue; // an existing secret (gcp.existingSecrets): it has its versions already
        const first = versions.filter((v) => v.dependencies.includes(secret.urn));
        assert.equal(first.length, 1, `${stack}: secret ${id} read by ${job.name} has one version made by the stack`);
        assert.ok(job.dependencies.includes(first[0]!.urn), `${stack}: ${job.name} waits for the first version of ${id}`);
      }
    }
  }
  const prod = await synth('prod');
  const placeholder = prod.resources.find((x) => x.name === 'secrets-lifeboat-prod-orders-database-url-placeholder')!;
  assert.deepEqual(placeholder.secretInputs, ['secretData'], 'marked secret by the provider all the same');
  assert.deepEqual(placeholder.ignoreChanges, ['secretData'], 'never rewritten over a real value');
  // The application's secret is no job's: it gets no placeholder the application could read.
  assert.ok(!prod.resources.some((x) => x.name === 'secrets-orders-app-database-url-placeholder'));
});

test('a job run before its secret is written fails on the placeholder: a usage error (exit 2) that names the flag and the placeholder, nothing contacted', async () => {
  const text = placeholderText('lifeboat-prod-orders-database-url', 'the database URL of source orders');
  assert.match(text, /^lifeboat-unset: /);
  const r = await runCli(['backup', '--storage', '/nonexistent-never-used'], { DATABASE_URL: text });
  assert.equal(r.code, 2, r.stderr);
  const ev = finalEvent(r.stderr)!;
  assert.equal(ev.event, 'backup.failed');
  assert.equal(ev.errorCode, 'database_url_invalid');
  assert.match(String(ev.message), /--database-url expected a postgres:\/\/ or postgresql:\/\/ URL, got scheme "lifeboat-unset"/);
});

test('a preview reads no secret value; `pulumi up` reads the alert channel credentials, and a channel keeps the one it was made with', async () => {
  const preview = await synth('prod', true);
  assert.ok(!preview.calls.some((c) => /secretmanager\/getSecretVersion/.test(c)), `preview called ${preview.calls.join(', ')}`);
  for (const name of ['alerts-pagerduty-0', 'alerts-slack-0']) {
    const channel = preview.resources.find((x) => x.name === name)!;
    assert.equal(channel.inputs.sensitiveLabels, undefined, `${name}: no credential at preview`);
    assert.deepEqual(channel.ignoreChanges, ['sensitiveLabels'], `${name}: so an existing channel shows no change at preview`);
  }
  const up = await synth('prod');
  assert.equal(up.calls.filter((c) => c === 'gcp:secretmanager/getSecretVersionAccess:getSecretVersionAccess').length, 2, 'PagerDuty key and Slack token');
  for (const name of ['alerts-pagerduty-0', 'alerts-slack-0']) {
    const channel = up.resources.find((x) => x.name === name)!;
    assert.deepEqual(channel.secretInputs, ['sensitiveLabels']);
    assert.deepEqual(channel.ignoreChanges, ['sensitiveLabels']);
  }
  // What a preview does call is readable by a viewer: project metadata and Google's service agents.
  for (const stack of GCP_STACKS) {
    const calls = (await synth(stack, true)).calls;
    for (const c of calls) assert.match(c, /organizations\/getProject:|storage\/getProjectServiceAccount:|storage\/getTransferProjectServiceAccount:/, `${stack} previews with ${c}`);
  }
});

test('a stack whose runner image is in another project grants that repository\'s reader role to its Cloud Run agent, kept on destroy', async () => {
  for (const [stack, project] of [['staging', 'acme-staging'], ['pr', 'acme-review']] as const) {
    const r = await synth(stack);
    const grants = ofType(r, 'gcp:artifactregistry/repositoryIamMember:RepositoryIamMember');
    assert.equal(grants.length, 1, stack);
    const g = grants[0]!;
    assert.deepEqual(
      { project: g.inputs.project, location: g.inputs.location, repository: g.inputs.repository, role: g.inputs.role, member: g.inputs.member },
      { project: 'acme-prod', location: 'europe', repository: 'lifeboat', role: 'roles/artifactregistry.reader', member: `serviceAccount:service-${MOCK_PROJECT_NUMBER}@serverless-robot-prod.iam.gserviceaccount.com` },
      `${stack} (${project})`,
    );
    // Every review stack of the project shares this grant: no stack's destroy removes it.
    assert.equal(g.retainOnDelete, true);
    for (const job of ofType(r, 'gcp:cloudrunv2/job:Job')) assert.ok(job.dependencies.includes(g.urn), `${stack}: ${job.name} waits for the pull grant`);
  }
  assert.equal(ofType(await synth('prod'), 'gcp:artifactregistry/repositoryIamMember:RepositoryIamMember').length, 0, 'prod pulls from its own project');
  assert.deepEqual(artifactRegistryOf(`europe-docker.pkg.dev/acme-prod/lifeboat/runner@sha256:${'0'.repeat(64)}`), { location: 'europe', project: 'acme-prod', repository: 'lifeboat' });
  assert.equal(artifactRegistryOf('ghcr.io/acme/runner:1'), undefined);
});

test('the Google APIs a stack needs are enabled in code, never disabled, and every resource waits for them', async () => {
  for (const stack of GCP_STACKS) {
    const r = await synth(stack);
    const services = ofType(r, 'gcp:projects/service:Service');
    const names = services.map((s) => String(s.inputs.service)).sort();
    for (const api of ['run.googleapis.com', 'secretmanager.googleapis.com', 'sqladmin.googleapis.com', 'iam.googleapis.com']) assert.ok(names.includes(api), `${stack}: ${api}`);
    if (stack !== 'dr') for (const api of ['cloudscheduler.googleapis.com', 'monitoring.googleapis.com']) assert.ok(names.includes(api), `${stack}: ${api}`);
    for (const s of services) {
      assert.equal(s.inputs.disableOnDestroy, false, `${stack} ${s.name}`);
      assert.equal(s.inputs.disableDependentServices, false, `${stack} ${s.name}`);
      assert.equal(s.retainOnDelete, true, `${stack} ${s.name}`);
    }
    const serviceUrns = services.map((s) => s.urn);
    const waiting = (x: RecordedResource) => serviceUrns.every((u) => x.dependencies.includes(u));
    for (const x of r.resources.filter((y) => y.custom && y.type.startsWith('gcp:') && y.type !== 'gcp:projects/service:Service')) {
      assert.ok(waiting(x), `${stack}: ${x.name} (${x.type}) does not wait for the APIs`);
    }
  }
  const prod = (await synth('prod')).resources.filter((x) => x.type === 'gcp:projects/service:Service').map((s) => String(s.inputs.service)).sort();
  assert.deepEqual(prod, requiredServices({ cloudSql: true, schedules: true, alerts: true, replication: true }));
  assert.ok(prod.includes('storagetransfer.googleapis.com') && prod.includes('pubsub.googleapis.com'));
});
