/**
 * stack-pitr-drill: production databases have a scheduled point-in-time recovery drill with failed and missing
 * alerts. The GCP fixture has its PITR drill job, schedule and alerts, and is made production here (orders-instance
 * labelled lifeboat-environment: prod); the Kubernetes fixture (a self-hosted database) gets them here.
 */
import type { RecordedResource } from '../../infra/synth/recorded';
import { defineRuleCases, type RuleCase } from './cases';
import { setPath } from './fixtures/build';
import { gcpStack } from './fixtures/gcp';
import { k8sStack } from './fixtures/k8s';

const RULE = 'stack-pitr-drill';
const remove = (...names: string[]) => (_i: Record<string, unknown>, all: RecordedResource[]) => {
  for (const n of names) all.splice(all.findIndex((r) => r.name === n), 1);
};
const waive = (reason?: string) => ({ config: { [RULE]: { waivers: [{ pattern: 'orders-instance', ...(reason ? { reason } : {}) }] } } });

/** orders-instance as adopted: no lifeboat-source label, and its PITR drill job not depending on it. */
const unlabelled = (i: Record<string, unknown>, all: RecordedResource[]) => {
  setPath(i, ['settings', 'userLabels', 'lifeboat-source'], undefined);
  const instance = all.find((r) => r.name === 'orders-instance')!;
  const job = all.find((r) => r.name === 'jobs-orders-pitr-drill');
  if (job) job.dependencies = job.dependencies.filter((d) => d !== instance.urn);
};

const gcpCases: RuleCase[] = [
  { rule: RULE, title: 'PITR drill job removed', target: 'jobs-orders-pitr-drill', change: remove('jobs-orders-pitr-drill', 'schedules-orders-pitr-drill'), reportedOn: 'orders-instance', message: /no point-in-time recovery drill/ },
  { rule: RULE, title: 'PITR drill schedule removed', target: 'schedules-orders-pitr-drill', change: remove('schedules-orders-pitr-drill'), reportedOn: 'orders-instance', message: /a schedule for its PITR drill/ },
  { rule: RULE, title: 'missing-drill alert removed', target: 'alerts-pitr-drill-missing', change: remove('alerts-pitr-drill-missing'), reportedOn: 'orders-instance', message: /pitr-drill-missing alert/ },
  { rule: RULE, title: 'failed-drill alert scoped to another source', target: 'alerts-pitr-drill-failed', change: (i) => setPath(i, ['userLabels', 'lifeboat-source'], 'billing'), reportedOn: 'orders-instance', message: /pitr-drill-failed alert/ },
  { rule: RULE, title: 'the logical drill does not count as a PITR drill', target: 'jobs-orders-pitr-drill', change: remove('jobs-orders-pitr-drill', 'schedules-orders-pitr-drill'), reportedOn: 'orders-instance' },
  { rule: RULE, title: 'no PITR drill in a staging stack', target: 'orders-instance', change: (i, all) => { setPath(i, ['settings', 'userLabels', 'lifeboat-environment'], 'staging'); remove('jobs-orders-pitr-drill', 'schedules-orders-pitr-drill')(i, all); }, passes: true },
  { rule: RULE, title: 'no PITR drill in prod-eu (a production qualifier)', target: 'orders-instance', change: (i, all) => { setPath(i, ['settings', 'userLabels', 'lifeboat-environment'], 'prod-eu'); remove('jobs-orders-pitr-drill', 'schedules-orders-pitr-drill')(i, all); } },
  { rule: RULE, title: 'no PITR drill, waived with a reason', target: 'orders-instance', change: remove('jobs-orders-pitr-drill', 'schedules-orders-pitr-drill'), opts: waive('PITR of orders is drilled by the DBA team\'s own runbook (TICKET-40)'), passes: true },
  { rule: RULE, title: 'no PITR drill, waiver without a reason', target: 'orders-instance', change: remove('jobs-orders-pitr-drill', 'schedules-orders-pitr-drill'), opts: waive(), message: /gives no reason/ },
  // An adopted instance keeps its own labels: its source is that of the backup job depending on it.
  // (as in the stacks, the PITR drill job names the instance in its args and does not depend on it)
  { rule: RULE, title: 'an adopted instance without lifeboat-source is matched through its backup job', target: 'orders-instance', change: unlabelled, passes: true },
  // An adopted RDS instance has no job depending on it either: its source is the one named in its resource name.
  { rule: RULE, title: 'an adopted instance no job depends on is matched by the source in its name', target: 'orders-instance', change: (i, all) => { unlabelled(i, all); const urn = all.find((r) => r.name === 'orders-instance')!.urn; for (const r of all) r.dependencies = r.dependencies.filter((d) => d !== urn); }, passes: true },
  { rule: RULE, title: 'no PITR drill, adopted instance without lifeboat-source', target: 'orders-instance', change: (i, all) => { unlabelled(i, all); remove('jobs-orders-pitr-drill', 'schedules-orders-pitr-drill')(i, all); }, message: /database orders has no point-in-time recovery drill/ },
  { rule: RULE, title: 'no PITR drill in an ephemeral stack', target: 'orders-instance', change: remove('jobs-orders-pitr-drill', 'schedules-orders-pitr-drill'), opts: { stackTags: { 'lifeboat:ephemeral': 'true' } }, passes: true },
];
/** The GCP fixture in a production stack. */
function gcpProduction(): RecordedResource[] {
  const all = gcpStack();
  setPath(all.find((r) => r.name === 'orders-instance')!.inputs, ['settings', 'userLabels', 'lifeboat-environment'], 'prod');
  return all;
}
defineRuleCases('gcp (production, with a PITR drill)', gcpProduction, gcpCases);

/** The self-hosted database of the Kubernetes fixture, in a production stack, with its PITR drill CronJob. */
function k8sWithPitr(): RecordedResource[] {
  const all = k8sStack();
  const drill = all.find((r) => r.name === 'jobs-orders-drill')!;
  const pitr = structuredClone(drill);
  pitr.name = 'jobs-orders-pitr-drill';
  pitr.urn = drill.urn.replace(/jobs-orders-drill$/, 'jobs-orders-pitr-drill');
  setPath(pitr.inputs, ['metadata', 'name'], 'lifeboat-orders-pitr-drill');
  setPath(pitr.inputs, ['metadata', 'labels', 'lifeboat-task'], 'pitr-drill');
  all.push(pitr);
  const rule = all.find((r) => r.name === 'alerts')!;
  const rules = (rule.inputs as { spec: { groups: Array<{ rules: unknown[] }> } }).spec.groups[0]!.rules;
  rules.push({ alert: 'LifeboatOrdersPitrDrillFailed', expr: 'kube_job_failed > 0', labels: { 'lifeboat-alert': 'pitr-drill-failed', 'lifeboat-source': 'orders' } });
  rules.push({ alert: 'LifeboatOrdersPitrDrillMissing', expr: 'absent(kube_cronjob_status_last_successful_time)', labels: { 'lifeboat-alert': 'pitr-drill-missing', 'lifeboat-source': 'orders' } });
  // The namespace carries the stack's environment (RunnerNamespace's labels).
  all.push({ urn: 'urn:pulumi:prod::lifeboat::kubernetes:core/v1:Namespace::ns', type: 'kubernetes:core/v1:Namespace', name: 'ns', inputs: { metadata: { name: 'lifeboat', labels: { 'lifeboat-environment': 'production' } } }, dependencies: [], custom: true });
  return all;
}

const k8sCases: RuleCase[] = [
  { rule: RULE, title: 'self-hosted database without PITR', target: 'jobs-orders-pitr-drill', change: remove('jobs-orders-pitr-drill'), reportedOn: 'jobs-orders-backup', message: /database orders has no point-in-time recovery drill/ },
  { rule: RULE, title: 'self-hosted PITR drill without its schedule', target: 'jobs-orders-pitr-drill', change: (i) => setPath(i, ['spec', 'schedule'], undefined), reportedOn: 'jobs-orders-backup', message: /a schedule for its PITR drill/ },
];
defineRuleCases('kubernetes (production, self-hosted, PITR on)', k8sWithPitr, k8sCases);
