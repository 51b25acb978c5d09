import { T } from '../../lib/conventions';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at } from '../../lib/values';

export default resourcePolicy({
  name: 'k8s-cronjob-deadline',
  platform: 'kubernetes',
  description: 'CronJobs bound each run with activeDeadlineSeconds (at most maxDeadlineSeconds) and forbid concurrent runs.',
  why: 'A hung dump without a deadline holds its slot forever and, with concurrencyPolicy Forbid, silently blocks every later backup.',
  fix: "Set spec.jobTemplate.spec.activeDeadlineSeconds and spec.concurrencyPolicy: 'Forbid'.",
  enforcementLevel: 'mandatory',
  config: { maxDeadlineSeconds: { type: 'integer', minimum: 1, default: 86400, description: 'Longest acceptable run, in seconds.' } },
  types: [T.cronJob],
  check: (r, cfg, report) => {
    const deadline = at(r.props, 'spec', 'jobTemplate', 'spec', 'activeDeadlineSeconds');
    const max = cfg.maxDeadlineSeconds as number;
    if (deadline !== UNKNOWN) {
      if (typeof deadline !== 'number') report('spec.jobTemplate.spec.activeDeadlineSeconds is not set');
      else if (deadline > max) report(`activeDeadlineSeconds is ${deadline}, above ${max}`);
    }
    const concurrency = at(r.props, 'spec', 'concurrencyPolicy');
    if (concurrency !== UNKNOWN && concurrency !== 'Forbid') report(`spec.concurrencyPolicy is ${JSON.stringify(concurrency)}; it must be 'Forbid'`);
  },
});
