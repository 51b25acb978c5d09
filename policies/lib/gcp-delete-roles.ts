/**
 * Which GCP IAM roles let their holder delete Cloud Storage objects: the predefined ones that include
 * storage.objects.delete (or can grant it), and custom roles of the stack whose permissions list it.
 */
import { T } from './conventions';
import type { StackView, Subject } from './rule';
import { UNKNOWN, at, list } from './values';

/** Predefined roles that include storage.objects.delete (or can grant it). */
export const DELETING_ROLES = [
  'roles/owner',
  'roles/editor',
  'roles/storage.admin',
  'roles/storage.objectAdmin',
  'roles/storage.objectUser',
  'roles/storage.legacyBucketOwner',
  'roles/storage.legacyBucketWriter',
  'roles/storage.legacyObjectOwner',
];

/**
 * The custom roles of the stack a grant gives (linked by dependency: `role: customRole.name`, or by the role id at
 * the end of the role string) whose permissions include storage.objects.delete.
 */
export function deletingCustomRoles(stack: StackView, grant: Subject, role: unknown): Subject[] {
  return stack.resources
    .filter((r) => r.type === T.projectCustomRole)
    .filter((r) => {
      const roleId = at(r.props, 'roleId');
      return grant.dependencies.includes(r.urn) || (typeof roleId === 'string' && typeof role === 'string' && role.endsWith(`/roles/${roleId}`));
    })
    .filter((r) => {
      const perms = list(at(r.props, 'permissions'));
      return perms !== UNKNOWN && perms.includes('storage.objects.delete');
    });
}
