import { T } from '../../lib/conventions';
import { DELETING_ROLES } from '../../lib/gcp-delete-roles';
import { grantsOf, identityKind, serviceAccountsOf } from '../../lib/gcp-iam';
import { stackPolicy } from '../../lib/rule';
import { UNKNOWN, at, isUnknown, list } from '../../lib/values';


export default stackPolicy({
  name: 'gcp-backup-identity-no-delete',
  platform: 'gcp',
  description: 'The backup identity can create and read objects but not delete (or overwrite) them.',
  why: 'Ransomware and bugs that reach the backup job must not be able to destroy the backups; retention is done by lifecycle rules instead.',
  fix: 'Grant roles/storage.objectCreator and roles/storage.objectViewer on the backup bucket; no objectAdmin/objectUser/legacyBucketWriter, no custom role with storage.objects.delete.',
  enforcementLevel: 'mandatory',
  check: (stack, _cfg, report) => {
    const customRoles = stack.resources.filter((r) => r.type === T.projectCustomRole);
    for (const g of grantsOf(stack)) {
      const accounts = serviceAccountsOf(stack, g).filter((sa) => identityKind(sa) === 'backup');
      if (accounts.length === 0) continue;
      if (isUnknown(g.role)) continue;
      if (typeof g.role === 'string' && DELETING_ROLES.includes(g.role)) {
        report(`grants ${g.role}, which includes storage.objects.delete, to the backup identity`, g.subject);
        continue;
      }
      for (const role of customRoles) {
        const roleId = at(role.props, 'roleId');
        const linked = g.subject.dependencies.includes(role.urn) || (typeof roleId === 'string' && typeof g.role === 'string' && g.role.endsWith(`/roles/${roleId}`));
        if (!linked) continue;
        const perms = list(at(role.props, 'permissions'));
        if (perms === UNKNOWN) continue;
        if (perms.includes('storage.objects.delete')) report(`grants custom role ${role.name}, which includes storage.objects.delete, to the backup identity`, g.subject);
      }
    }
  },
});
