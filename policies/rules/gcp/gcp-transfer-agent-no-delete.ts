import { ancestorTypes } from '../../lib/conventions';
import { DELETING_ROLES, deletingCustomRoles } from '../../lib/gcp-delete-roles';
import { grantsOf } from '../../lib/gcp-iam';
import { stackPolicy } from '../../lib/rule';
import { isUnknown } from '../../lib/values';

/** The Storage Transfer Service's agent of a project: `project-<number>@storage-transfer-service.iam.gserviceaccount.com`. */
const TRANSFER_AGENT = /^serviceAccount:project-\d+@storage-transfer-service\.iam\.gserviceaccount\.com$/;

export default stackPolicy({
  name: 'gcp-transfer-agent-no-delete',
  platform: 'gcp',
  description: 'The Storage Transfer agent that copies backups to the DR bucket holds no role that can delete objects.',
  why: 'The DR copy exists for the day the primary is lost or tampered with; an agent that may delete objects (Storage Admin, Legacy Bucket Owner, Object Admin) can empty both buckets, and anyone who can drive a transfer job in the project can make it do so.',
  fix: 'Grant the agent custom roles with exactly what replication needs: on the source storage.buckets.get/update, storage.objects.get/list; on the DR bucket storage.buckets.get, storage.objects.create/get/list; and set overwriteWhen: NEVER.',
  enforcementLevel: 'mandatory',
  check: (stack, _cfg, report) => {
    for (const g of grantsOf(stack)) {
      // The member is the agent's email, or unknown at preview inside the DR replication component.
      const agent = g.members.some((m) => TRANSFER_AGENT.test(m))
        || (g.members.length === 0 && ancestorTypes(g.subject.urn).some((t) => /^lifeboat:[^:]+:DisasterRecovery$/.test(t)) && /-sts-/.test(g.subject.name));
      if (!agent || isUnknown(g.role)) continue;
      if (typeof g.role === 'string' && DELETING_ROLES.includes(g.role)) {
        report(`grants ${g.role}, which includes storage.objects.delete, to the Storage Transfer agent`, g.subject);
        continue;
      }
      for (const role of deletingCustomRoles(stack, g.subject, g.role)) {
        report(`grants custom role ${role.name}, which includes storage.objects.delete, to the Storage Transfer agent`, g.subject);
      }
    }
  },
});
