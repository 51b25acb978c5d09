import { defineRuleCases, type RuleCase } from './cases';
import { UNKNOWN_VALUE, setPath } from './fixtures/build';
import { k8sStack } from './fixtures/k8s';

const set = (path: (string | number)[], value: unknown) => (inputs: Record<string, unknown>) => setPath(inputs, path, value);
const POD = ['spec', 'jobTemplate', 'spec', 'template', 'spec'];

const restoreJob = (image: string): RuleCase['change'] => (i) => {
  setPath(i, ['metadata', 'labels', 'lifeboat-task'], 'redis-restore');
  setPath(i, [...POD, 'containers', 0, 'image'], image);
};

const cases: RuleCase[] = [
  { rule: 'k8s-restore-image-pinned', title: 'a DR restore CronJob on a tag', target: 'jobs-orders-drill', change: restoreJob('ghcr.io/example/lifeboat:1.2'), message: /not an image pinned by digest/ },
  { rule: 'k8s-restore-image-pinned', title: 'a DR restore CronJob pinned by digest', target: 'jobs-orders-drill', change: restoreJob(`ghcr.io/example/lifeboat@sha256:${'0'.repeat(64)}`), passes: true },
  { rule: 'k8s-restore-image-pinned', title: 'image unknown at preview', target: 'jobs-orders-drill', change: restoreJob(UNKNOWN_VALUE as string), passes: true },
  { rule: 'k8s-cronjob-deadline', title: 'activeDeadlineSeconds undefined', target: 'jobs-orders-backup', change: set(['spec', 'jobTemplate', 'spec', 'activeDeadlineSeconds'], undefined) },
  { rule: 'k8s-cronjob-deadline', title: 'deadline above the threshold', target: 'jobs-orders-drill', change: () => {}, opts: { config: { 'k8s-cronjob-deadline': { maxDeadlineSeconds: 3600 } } } },
  { rule: 'k8s-cronjob-deadline', title: 'concurrent runs allowed', target: 'jobs-orders-backup', change: set(['spec', 'concurrencyPolicy'], 'Allow') },
  { rule: 'k8s-cronjob-deadline', title: 'concurrencyPolicy undefined', target: 'jobs-orders-backup', change: set(['spec', 'concurrencyPolicy'], undefined) },
  { rule: 'k8s-cronjob-non-root', title: 'runAsNonRoot undefined everywhere', target: 'jobs-orders-backup', change: set([...POD, 'securityContext', 'runAsNonRoot'], undefined) },
  { rule: 'k8s-cronjob-non-root', title: 'container runAsUser 0', target: 'jobs-orders-backup', change: set([...POD, 'containers', 0, 'securityContext', 'runAsUser'], 0) },
  { rule: 'k8s-cronjob-non-root', title: 'container overrides runAsNonRoot false', target: 'jobs-orders-drill', change: set([...POD, 'containers', 0, 'securityContext', 'runAsNonRoot'], false) },
  { rule: 'k8s-cronjob-non-root', title: 'pod security context unknown at preview', target: 'jobs-orders-backup', change: set([...POD, 'securityContext'], UNKNOWN_VALUE), passes: true },
  { rule: 'k8s-cronjob-no-plaintext-secrets', title: 'REDIS_URL literal with a password', target: 'jobs-orders-backup', change: set([...POD, 'containers', 0, 'env', 1], { name: 'REDIS_URL', value: 'redis://:s3cret@redis:6379/0' }) },
  { rule: 'k8s-cronjob-no-plaintext-secrets', title: 'age identity literal', target: 'jobs-orders-drill', change: set([...POD, 'containers', 0, 'env', 1], { name: 'LIFEBOAT_AGE_IDENTITY', value: 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQ' }) },
  { rule: 'k8s-cronjob-no-plaintext-secrets', title: 'env undefined', target: 'jobs-orders-backup', change: set([...POD, 'containers', 0, 'env'], undefined), passes: true },
  { rule: 'k8s-cronjob-time-zone', title: 'empty', target: 'jobs-orders-drill', change: set(['spec', 'timeZone'], '') },
  { rule: 'k8s-cronjob-time-zone', title: 'undefined', target: 'jobs-orders-backup', change: set(['spec', 'timeZone'], undefined) },
  { rule: 'stack-protected-database-coverage', title: 'no drill CronJob', target: 'jobs-orders-drill', change: (_i, all) => { all.splice(all.findIndex((r) => r.name === 'jobs-orders-drill'), 1); }, reportedOn: 'jobs-orders-backup', message: /a drill job/ },
  { rule: 'stack-protected-database-coverage', title: 'staleness rule label undefined', target: 'alerts', change: set(['spec', 'groups', 0, 'rules', 1, 'labels'], undefined), reportedOn: 'jobs-orders-backup', message: /backup-stale alert/ },
  { rule: 'stack-ephemeral-not-production', title: 'a production CronJob in a stack tagged ephemeral', target: 'jobs-orders-backup', change: set(['metadata', 'labels', 'lifeboat-environment'], 'production'), opts: { stackTags: { 'lifeboat:ephemeral': 'true' } }, message: /treated as ephemeral \(the stack tag/ },
];

defineRuleCases('kubernetes', k8sStack, cases);
