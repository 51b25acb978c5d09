import { T } from '../../lib/conventions';
import { containerDefinitions } from '../../lib/ecs';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, isUnknown } from '../../lib/values';

export default resourcePolicy({
  name: 'ecs-task-non-root',
  platform: 'aws',
  description: 'ECS task containers run as an explicit non-root user.',
  why: 'Without `user` a container runs as the image default, which can be root; a compromised dump tool as root can escape further.',
  fix: 'Set user in each container definition, e.g. "10001:10001" (the runner image user).',
  enforcementLevel: 'mandatory',
  types: [T.ecsTaskDefinition],
  check: (r, _cfg, report) => {
    const containers = containerDefinitions(r);
    if (containers === UNKNOWN) return;
    for (const c of containers) {
      const name = typeof c.name === 'string' ? c.name : '(unnamed)';
      if (isUnknown(c.user)) continue;
      if (typeof c.user !== 'string' || c.user === '') report(`container ${name} sets no user`);
      else if (/^(root|0)(:|$)/.test(c.user)) report(`container ${name} runs as ${c.user}`);
    }
  },
});
