import { T } from '../../lib/conventions';
import { POD_SPEC, podContainers } from '../../lib/k8s';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at } from '../../lib/values';

export default resourcePolicy({
  name: 'k8s-cronjob-non-root',
  platform: 'kubernetes',
  description: 'CronJob pods run as non-root: runAsNonRoot true (pod or every container) and no runAsUser 0.',
  why: 'runAsNonRoot makes the kubelet refuse to start a container whose image would run as root; a root dump tool is one step from the node.',
  fix: 'Set spec.jobTemplate.spec.template.spec.securityContext { runAsNonRoot: true, runAsUser: 10001 }.',
  enforcementLevel: 'mandatory',
  types: [T.cronJob],
  check: (r, _cfg, report) => {
    const podNonRoot = at(r.props, ...POD_SPEC, 'securityContext', 'runAsNonRoot');
    const podUser = at(r.props, ...POD_SPEC, 'securityContext', 'runAsUser');
    const containers = podContainers(r);
    if (podNonRoot === UNKNOWN || containers === UNKNOWN) return;
    if (podUser === 0) report('the pod securityContext sets runAsUser 0');
    for (const c of containers) {
      if (c === UNKNOWN) continue;
      const name = String(at(c, 'name') ?? '(unnamed)');
      const nonRoot = at(c, 'securityContext', 'runAsNonRoot');
      const user = at(c, 'securityContext', 'runAsUser');
      if (nonRoot === UNKNOWN || user === UNKNOWN) continue;
      if (user === 0) report(`container ${name} sets runAsUser 0`);
      if (nonRoot === false) report(`container ${name} sets runAsNonRoot false`);
      else if (nonRoot !== true && podNonRoot !== true) report(`container ${name} may run as root: runAsNonRoot is set neither on the pod nor on the container`);
    }
  },
});
