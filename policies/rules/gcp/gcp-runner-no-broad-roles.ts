import { grantsOf, isRunnerGrant } from '../../lib/gcp-iam';
import { stackPolicy } from '../../lib/rule';
import { isUnknown } from '../../lib/values';

export default stackPolicy({
  name: 'gcp-runner-no-broad-roles',
  platform: 'gcp',
  description: 'Runner identities are never granted owner, editor, storage admin or IAM admin roles.',
  why: 'The runner runs a database client on a schedule with network access; a broad role turns any bug or compromised image into full control of the project and its backups.',
  fix: 'Grant the narrow roles the runner needs (objectCreator/objectViewer on the backup bucket, cloudsql.client, secretAccessor on its secrets, logging.logWriter).',
  enforcementLevel: 'mandatory',
  config: {
    forbiddenRoles: {
      type: 'array',
      items: { type: 'string' },
      default: ['roles/owner', 'roles/editor', 'roles/storage.admin', 'roles/iam.securityAdmin', 'roles/resourcemanager.projectIamAdmin', 'roles/iam.serviceAccountAdmin'],
      description: 'Roles no runner identity may hold.',
    },
  },
  check: (stack, cfg, report) => {
    const forbidden = new Set(cfg.forbiddenRoles as string[]);
    for (const g of grantsOf(stack)) {
      if (isUnknown(g.role) || typeof g.role !== 'string' || !forbidden.has(g.role)) continue;
      if (isRunnerGrant(stack, g)) report(`grants ${g.role} to a runner identity`, g.subject);
    }
  },
});
