import { T } from '../../lib/conventions';
import { durationSeconds } from '../../lib/duration';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at } from '../../lib/values';

export default resourcePolicy({
  name: 'cloudrun-job-timeout',
  platform: 'gcp',
  description: 'Cloud Run jobs set an explicit task timeout no longer than maxTimeoutSeconds.',
  why: 'The default (10 minutes) kills a large dump halfway; no bound at all lets a hung dump hold the schedule. Either way the backup is silently missing.',
  fix: 'Set template.template.timeout, e.g. "7200s", sized from the largest database.',
  enforcementLevel: 'mandatory',
  config: { maxTimeoutSeconds: { type: 'integer', minimum: 1, default: 86400, description: 'Longest acceptable task timeout, in seconds.' } },
  types: [T.cloudRunJob],
  check: (r, cfg, report) => {
    const timeout = at(r.props, 'template', 'template', 'timeout');
    if (timeout === UNKNOWN) return;
    if (timeout === undefined) return report('template.template.timeout is not set');
    const seconds = durationSeconds(timeout);
    if (seconds === undefined) return report(`template.template.timeout ${JSON.stringify(timeout)} is not a duration like "3600s"`);
    const max = cfg.maxTimeoutSeconds as number;
    if (seconds > max) report(`template.template.timeout is ${seconds}s, above ${max}s`);
  },
});
