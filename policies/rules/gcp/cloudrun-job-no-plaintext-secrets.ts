import { T } from '../../lib/conventions';
import { resourcePolicy } from '../../lib/rule';
import { plaintextSecretReason } from '../../lib/secrets';
import { UNKNOWN, at, list } from '../../lib/values';

export default resourcePolicy({
  name: 'cloudrun-job-no-plaintext-secrets',
  platform: 'gcp',
  description: 'Cloud Run job containers take secrets from Secret Manager, never as literal env values.',
  why: 'A literal env value is visible to every job viewer and stored in Pulumi state in plain text.',
  fix: 'Use envs[].valueSource.secretKeyRef { secret, version } and grant the job identity secretAccessor on that secret.',
  enforcementLevel: 'mandatory',
  types: [T.cloudRunJob],
  check: (r, _cfg, report) => {
    const containers = list(at(r.props, 'template', 'template', 'containers'));
    if (containers === UNKNOWN) return;
    for (const c of containers) {
      const envs = list(at(c, 'envs'));
      if (envs === UNKNOWN) continue;
      for (const e of envs) {
        const name = at(e, 'name');
        const value = at(e, 'value');
        if (typeof name !== 'string' || value === UNKNOWN) continue;
        const reason = plaintextSecretReason(name, value);
        if (reason) report(reason);
      }
    }
  },
});
