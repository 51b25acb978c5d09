import { LABEL, T } from '../../lib/conventions';
import { containerDefinitions } from '../../lib/ecs';
import { RESTORE_TASKS, pinnedByDigest } from '../../lib/images';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, isUnknown } from '../../lib/values';

export default resourcePolicy({
  name: 'ecs-restore-image-pinned',
  platform: 'aws',
  description: 'A DR stack\'s restore task definitions (lifeboat-task restore or redis-restore) run an image pinned by digest.',
  why: 'On the day a region is lost the restore must run a runner that reads the backups it restores; a tag can move to an older or newer build between review and disaster, a digest cannot.',
  fix: 'Set lifeboat:runnerImage of the dr stack to the digest the primary runs in the DR region\'s registry (the primary stack\'s drRunnerImage output).',
  enforcementLevel: 'mandatory',
  types: [T.ecsTaskDefinition],
  check: (r, _cfg, report) => {
    if (!(RESTORE_TASKS as readonly string[]).includes(r.labels[LABEL.task] ?? '')) return;
    const containers = containerDefinitions(r);
    if (containers === UNKNOWN) return;
    for (const c of containers) {
      if (isUnknown(c.image)) continue;
      const name = typeof c.name === 'string' ? c.name : '(unnamed)';
      if (typeof c.image !== 'string' || !pinnedByDigest(c.image)) report(`container ${name} runs ${JSON.stringify(c.image)}, not an image pinned by digest (@sha256:...)`);
    }
  },
});
