import { T } from '../../lib/conventions';
import { containerDefinitions } from '../../lib/ecs';
import { resourcePolicy } from '../../lib/rule';
import { plaintextSecretReason } from '../../lib/secrets';
import { UNKNOWN, isRecord, isUnknown } from '../../lib/values';

export default resourcePolicy({
  name: 'ecs-task-no-plaintext-secrets',
  platform: 'aws',
  description: 'ECS task containers take secrets from Secrets Manager (`secrets`), never as literal `environment` values.',
  why: 'Task definition environment values are readable by anyone with ecs:DescribeTaskDefinition and stored in Pulumi state in plain text.',
  fix: 'Move the value to containerDefinitions[].secrets [{ name, valueFrom: <secret ARN> }] and allow the execution role to read that secret.',
  enforcementLevel: 'mandatory',
  types: [T.ecsTaskDefinition],
  check: (r, _cfg, report) => {
    const containers = containerDefinitions(r);
    if (containers === UNKNOWN) return;
    for (const c of containers) {
      if (!Array.isArray(c.environment)) continue;
      for (const e of c.environment) {
        if (!isRecord(e) || typeof e.name !== 'string' || isUnknown(e.value)) continue;
        const reason = plaintextSecretReason(e.name, e.value);
        if (reason) report(`container ${String(c.name)}: ${reason}`);
      }
    }
  },
});
