import { T } from '../../lib/conventions';
import { podContainers } from '../../lib/k8s';
import { resourcePolicy } from '../../lib/rule';
import { plaintextSecretReason } from '../../lib/secrets';
import { UNKNOWN, at, list } from '../../lib/values';

export default resourcePolicy({
  name: 'k8s-cronjob-no-plaintext-secrets',
  platform: 'kubernetes',
  description: 'CronJob containers take secrets by reference (valueFrom.secretKeyRef, envFrom), never as literal env values.',
  why: 'Literal env values are readable by anyone who can get the CronJob and are stored in Pulumi state in plain text.',
  fix: 'Use env[].valueFrom.secretKeyRef { name, key } pointing at a Kubernetes Secret.',
  enforcementLevel: 'mandatory',
  types: [T.cronJob],
  check: (r, _cfg, report) => {
    const containers = podContainers(r);
    if (containers === UNKNOWN) return;
    for (const c of containers) {
      const env = list(at(c, 'env'));
      if (env === UNKNOWN) continue;
      for (const e of env) {
        const name = at(e, 'name');
        const value = at(e, 'value');
        if (typeof name !== 'string' || value === UNKNOWN) continue;
        const reason = plaintextSecretReason(name, value);
        if (reason) report(`container ${String(at(c, 'name'))}: ${reason}`);
      }
    }
  },
});
