import { LABEL, T } from '../../lib/conventions';
import { RESTORE_TASKS, pinnedByDigest } from '../../lib/images';
import { podContainers } from '../../lib/k8s';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at, isUnknown } from '../../lib/values';

export default resourcePolicy({
  name: 'k8s-restore-image-pinned',
  platform: 'kubernetes',
  description: 'A DR stack\'s restore CronJobs (lifeboat-task restore or redis-restore) run an image pinned by digest.',
  why: 'On the day a region is lost the restore must run a runner that reads the backups it restores; a tag can move to an older or newer build between review and disaster, a digest cannot.',
  fix: 'Set lifeboat:runnerImage of the dr stack to the digest the primary stack runs (name@sha256:...).',
  enforcementLevel: 'mandatory',
  types: [T.cronJob],
  check: (r, _cfg, report) => {
    if (!(RESTORE_TASKS as readonly string[]).includes(r.labels[LABEL.task] ?? '')) return;
    const containers = podContainers(r);
    if (containers === UNKNOWN) return;
    for (const c of containers) {
      const image = at(c, 'image');
      if (isUnknown(c) || isUnknown(image)) continue;
      const name = String(at(c, 'name') ?? '(unnamed)');
      if (typeof image !== 'string' || !pinnedByDigest(image)) report(`container ${name} runs ${JSON.stringify(image)}, not an image pinned by digest (@sha256:...)`);
    }
  },
});
