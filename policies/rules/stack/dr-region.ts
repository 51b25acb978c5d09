import { T, isBackupBucket, isDrBucket } from '../../lib/conventions';
import { ofType, stackPolicy, type Subject } from '../../lib/rule';
import { locationsOverlap } from '../../lib/regions';
import { at } from '../../lib/values';

/** GCS `location`; S3 `region` input, else the explicit provider's region. undefined when not known. */
function locationOf(b: Subject): string | undefined {
  const own = b.type === T.gcsBucket ? at(b.props, 'location') : at(b.props, 'region');
  if (typeof own === 'string' && own !== '') return own;
  const fromProvider = at(b.providerProps, 'region');
  return typeof fromProvider === 'string' && fromProvider !== '' ? fromProvider : undefined;
}

export default stackPolicy({
  name: 'stack-dr-region',
  platform: 'stack',
  description: 'Stacks with a backup bucket also keep a DR copy, and the DR copy is in a region that shares nothing with the primary location.',
  why: 'A region outage or a regional incident takes the primary database and the backups next to it at once; only a copy elsewhere restores.',
  fix: 'Set drRegion in the stack config to a region outside the primary bucket location (a dual-region like EUR4 covers both of its regions).',
  enforcementLevel: 'mandatory',
  productionOnly: true,
  config: { requireDrCopy: { type: 'boolean', default: true, description: 'Refuse a stack that has backup buckets but no DR bucket.' } },
  check: (stack, cfg, report) => {
    const buckets = ofType(stack, T.gcsBucket, T.s3Bucket).filter((b) => isBackupBucket(b.urn, b.labels));
    const dr = buckets.filter((b) => isDrBucket(b.urn, b.labels));
    const primary = buckets.filter((b) => !isDrBucket(b.urn, b.labels));
    if (primary.length > 0 && dr.length === 0 && cfg.requireDrCopy) {
      for (const p of primary) report('the backup bucket has no DR copy (no bucket labelled lifeboat-role: dr-vault or inside a DisasterRecovery component)', p);
    }
    for (const d of dr) {
      const dl = locationOf(d);
      if (!dl) continue;
      for (const p of primary) {
        const pl = locationOf(p);
        if (pl && locationsOverlap(pl, dl)) report(`the DR copy is in ${dl}, which overlaps the primary bucket ${p.name} in ${pl}`, d);
      }
    }
  },
});
