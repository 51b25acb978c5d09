import { T } from '../../lib/conventions';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, at } from '../../lib/values';

export default resourcePolicy({
  name: 'cloudsql-deletion-protection',
  platform: 'gcp',
  description: 'In non-ephemeral stacks, Cloud SQL instances are protected against deletion both by Pulumi and by the Cloud SQL API.',
  why: 'Deleting an instance deletes its automated backups too; deletionProtection only stops Pulumi, settings.deletionProtectionEnabled also stops the console and gcloud.',
  fix: 'Set deletionProtection: true and settings.deletionProtectionEnabled: true (and settings.retainBackupsOnDelete: true).',
  enforcementLevel: 'mandatory',
  productionOnly: true,
  types: [T.sqlInstance],
  check: (r, _cfg, report) => {
    const pulumiSide = at(r.props, 'deletionProtection');
    const apiSide = at(r.props, 'settings', 'deletionProtectionEnabled');
    if (pulumiSide !== UNKNOWN && pulumiSide === false) report('deletionProtection is false');
    if (apiSide !== UNKNOWN && apiSide !== true) report(`settings.deletionProtectionEnabled is ${JSON.stringify(apiSide)}; it must be true`);
  },
});
