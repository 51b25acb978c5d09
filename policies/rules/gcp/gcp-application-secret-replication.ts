import { LABEL, T } from '../../lib/conventions';
import { ofType, stackPolicy, type Subject } from '../../lib/rule';
import { UNKNOWN, at, list } from '../../lib/values';

export const APPLICATION_SECRET_ROLE = 'application-secret';
const SECRET = 'gcp:secretmanager/secret:Secret';

/** Regions of the stack's primary: its protected Cloud SQL instances' and its (non-restore) Cloud Run jobs'. */
function primaryRegions(resources: Subject[]): Set<string> {
  const out = new Set<string>();
  for (const r of resources) {
    if (r.type === T.sqlInstance && r.labels[LABEL.role] !== 'recovery-instance') {
      const region = at(r.props, 'region');
      if (typeof region === 'string') out.add(region);
    }
    if (r.type === T.cloudRunJob && r.labels[LABEL.task] !== 'restore') {
      const location = at(r.props, 'location');
      if (typeof location === 'string') out.add(location);
    }
  }
  return out;
}

export default stackPolicy({
  name: 'gcp-application-secret-replication',
  platform: 'gcp',
  description: 'An application\'s database secret (labelled lifeboat-role: application-secret) has no user-managed replica in the primary region.',
  why: 'After a DR restore the application is repointed by writing a new version of this secret, during the outage of the primary region; Secret Manager refuses a new version while any replica\'s region is down.',
  fix: 'Replicate it user-managed to the DR region only (what the stack does), or automatically; an existing secret replicated into the primary region must be recreated (replication cannot change).',
  enforcementLevel: 'mandatory',
  check: (stack, _cfg, report) => {
    const primary = primaryRegions(stack.resources);
    if (primary.size === 0) return;
    for (const s of ofType(stack, SECRET).filter((x) => x.labels[LABEL.role] === APPLICATION_SECRET_ROLE)) {
      const replicas = list(at(s.props, 'replication', 'userManaged', 'replicas'));
      if (replicas === UNKNOWN) continue;
      const inPrimary = replicas.map((r) => at(r, 'location')).filter((l): l is string => typeof l === 'string' && primary.has(l));
      if (inPrimary.length) report(`has a user-managed replica in the primary region ${inPrimary.join(', ')}: no new version can be written while that region is down`, s);
    }
  },
});
