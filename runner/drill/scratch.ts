/**
 * The scratch database of a drill. The scratch URL names a server the drill may create databases on; its
 * database part is the prefix of the scratch database's name, made unique per run so two drills never share
 * one and a leftover (a crashed drill) says when it was made:
 *
 *   postgres://drill@db:5432/postgres      → lifeboat_drill_20261121t020000z_3f9a  (maintenance db: default prefix)
 *   postgres://drill@db:5432/orders_drill  → orders_drill_20261121t020000z_3f9a
 *   postgres://drill@db:5432/Orders-Prod   → orders_prod_20261121t020000z_3f9a
 *
 * The drill creates that database (CREATE DATABASE refuses an existing one, so nobody else's database is ever
 * touched), restores into it and always drops it.
 */
import { randomBytes } from 'node:crypto';
import { compactTimestamp } from '../contract/layout';

export const DEFAULT_SCRATCH_PREFIX = 'lifeboat_drill';
/** Databases every server has: naming one means "just the server", not a prefix. */
const MAINTENANCE_DATABASES = new Set(['postgres', 'template1', 'defaultdb', 'rdsadmin']);
/** PostgreSQL truncates identifiers at 63 bytes; `_<16 chars>_<4 hex>` follows the prefix. */
const MAX_PREFIX = 63 - 1 - 16 - 1 - 4;

/**
 * The prefix for scratch names from the URL's database. Any database name works (a DR recovery URL names the
 * recovered database, e.g. "Orders-Prod"): it is folded into a plain lower-case identifier rather than refused.
 */
export function scratchPrefix(urlDatabase: string): string {
  if (MAINTENANCE_DATABASES.has(urlDatabase)) return DEFAULT_SCRATCH_PREFIX;
  let p = urlDatabase.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  if (!p) return DEFAULT_SCRATCH_PREFIX;
  if (!/^[a-z_]/.test(p)) p = `d_${p}`;
  return p.slice(0, MAX_PREFIX).replace(/_+$/, '');
}

/** `<prefix>_<utc timestamp, lower case>_<4 hex>`: a valid unquoted identifier that sorts by time. */
export function scratchDatabaseName(prefix: string, at: Date, random: () => string = () => randomBytes(2).toString('hex')): string {
  return `${prefix}_${compactTimestamp(at).toLowerCase()}_${random()}`;
}
