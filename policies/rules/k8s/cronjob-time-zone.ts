import { T } from '../../lib/conventions';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at } from '../../lib/values';

export default resourcePolicy({
  name: 'k8s-cronjob-time-zone',
  platform: 'kubernetes',
  description: 'CronJobs name their time zone (spec.timeZone).',
  why: "Without it the schedule follows the kube-controller-manager's local zone, which differs between clusters and moves with daylight saving.",
  fix: 'Set spec.timeZone, e.g. "Etc/UTC" (Kubernetes 1.27+).',
  enforcementLevel: 'mandatory',
  types: [T.cronJob],
  check: (r, _cfg, report) => {
    const tz = at(r.props, 'spec', 'timeZone');
    if (tz === UNKNOWN) return;
    if (typeof tz !== 'string' || tz.trim() === '') report('spec.timeZone is not set');
  },
});
