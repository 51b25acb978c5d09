import { T } from '../../lib/conventions';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at, list, parseJsonInput } from '../../lib/values';

const PUBLIC = new Set(['allUsers', 'allAuthenticatedUsers']);

export default resourcePolicy({
  name: 'gcs-no-public-members',
  platform: 'gcp',
  description: 'No bucket IAM grant names allUsers or allAuthenticatedUsers.',
  why: 'allAuthenticatedUsers means any Google account in the world, not your organisation.',
  fix: 'Grant roles to the runner service accounts or groups only.',
  enforcementLevel: 'mandatory',
  types: [T.gcsBucketIamMember, T.gcsBucketIamBinding, T.gcsBucketIamPolicy],
  check: (r, _cfg, report) => {
    const members: unknown[] = [];
    if (r.type === T.gcsBucketIamMember) members.push(at(r.props, 'member'));
    else if (r.type === T.gcsBucketIamBinding) {
      const m = list(at(r.props, 'members'));
      if (m !== UNKNOWN) members.push(...m);
    } else {
      const doc = parseJsonInput(at(r.props, 'policyData'));
      const bindings = list(at(doc, 'bindings'));
      if (bindings !== UNKNOWN) for (const b of bindings) {
        const m = list(at(b, 'members'));
        if (m !== UNKNOWN) members.push(...m);
      }
    }
    for (const m of members) if (typeof m === 'string' && PUBLIC.has(m)) report(`grants a role to ${m}`);
  },
});
