// The CrossGuard entry point: `pulumi preview --policy-pack policies` loads this module, which only wires the rules.
import { PolicyPack } from '@pulumi/policy';
import { policies } from './policies';

new PolicyPack('lifeboat', {
  description: 'Refuses unsafe backup setups: bucket hardening, database backup depth, least-privilege identities, jobs, schedules, alerts and DR.',
  enforcementLevel: 'mandatory',
  policies,
});
