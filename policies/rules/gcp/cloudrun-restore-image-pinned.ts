import { LABEL, T } from '../../lib/conventions';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at, isUnknown, list } from '../../lib/values';

export default resourcePolicy({
  name: 'cloudrun-restore-image-pinned',
  platform: 'gcp',
  description: 'Restore jobs (a DR stack\'s, labelled lifeboat-task: restore or redis-restore) run a runner image pinned by digest (…@sha256:<digest>).',
  why: 'On the day a region is lost the restore must run a runner that can read the backups it restores; a tag can move to an image that cannot (or be gone), and nobody can tell afterwards which runner restored the data.',
  fix: 'Set lifeboat:runnerImage to <registry>/<image>@sha256:<digest>, the image the primary stack runs (its runnerImage output; the DR workflow passes it).',
  enforcementLevel: 'mandatory',
  types: [T.cloudRunJob],
  appliesTo: (r) => r.labels[LABEL.task] === 'restore' || r.labels[LABEL.task] === 'redis-restore',
  check: (r, _cfg, report) => {
    const containers = list(at(r.props, 'template', 'template', 'containers'));
    if (containers === UNKNOWN) return;
    containers.forEach((c, i) => {
      const image = at(c, 'image');
      if (isUnknown(image)) return;
      if (typeof image !== 'string' || !/@sha256:[0-9a-f]{64}$/.test(image)) {
        report(`container ${i} runs ${JSON.stringify(image)}, not an image pinned by digest (…@sha256:<64 hex>)`);
      }
    });
  },
});
