import { T, isBackupBucket } from '../../lib/conventions';
import { ofType, stackPolicy } from '../../lib/rule';
import { UNKNOWN, at } from '../../lib/values';

export default stackPolicy({
  name: 'stack-non-ephemeral-hardening',
  platform: 'stack',
  description: 'In non-ephemeral stacks, backups survive the deletion of what holds them: no force-destroy on backup buckets, Cloud SQL keeps backups on delete, RDS keeps automated backups and takes a final snapshot.',
  why: 'One `pulumi destroy` (or a renamed resource that gets replaced) must not take the backups with it.',
  fix: 'Backup buckets: forceDestroy false. Cloud SQL: settings.retainBackupsOnDelete true. RDS: deleteAutomatedBackups false, skipFinalSnapshot false with a finalSnapshotIdentifier.',
  enforcementLevel: 'mandatory',
  productionOnly: true,
  check: (stack, _cfg, report) => {
    for (const b of ofType(stack, T.gcsBucket, T.s3Bucket).filter((x) => isBackupBucket(x.urn, x.labels))) {
      if (at(b.props, 'forceDestroy') === true) report('forceDestroy is true on a backup bucket: destroying the stack would delete every backup', b);
    }
    for (const db of ofType(stack, T.sqlInstance)) {
      const keep = at(db.props, 'settings', 'retainBackupsOnDelete');
      if (keep !== UNKNOWN && keep !== true) report(`settings.retainBackupsOnDelete is ${JSON.stringify(keep)}; it must be true`, db);
    }
    for (const db of ofType(stack, T.rdsInstance)) {
      const del = at(db.props, 'deleteAutomatedBackups');
      const skip = at(db.props, 'skipFinalSnapshot');
      if (del !== UNKNOWN && del !== false) report(`deleteAutomatedBackups is ${JSON.stringify(del)} (the provider default is true); it must be false`, db);
      if (skip === true) report('skipFinalSnapshot is true: deleting the instance would take no final snapshot', db);
    }
  },
});
