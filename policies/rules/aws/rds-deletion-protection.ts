import { T } from '../../lib/conventions';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at } from '../../lib/values';

export default resourcePolicy({
  name: 'rds-deletion-protection',
  platform: 'aws',
  description: 'In non-ephemeral stacks, RDS instances have deletion protection on.',
  why: 'Deleting an instance can take its automated backups with it; deletion protection makes that a two-step, deliberate act.',
  fix: 'Set deletionProtection: true.',
  enforcementLevel: 'mandatory',
  productionOnly: true,
  types: [T.rdsInstance],
  check: (r, _cfg, report) => {
    const v = at(r.props, 'deletionProtection');
    if (v === UNKNOWN) return;
    if (v !== true) report(`deletionProtection is ${JSON.stringify(v)}; it must be true`);
  },
});
