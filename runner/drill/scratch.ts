/**
 * The scratch database of a drill. The scratch URL names a server the drill may create databases on; its
 * database part is the prefix of the scratch database's name, made unique per run so two drills never share
 * one and a leftover (a crashed drill) says when it was made:
 *
 *   postgres://drill@db:5432/postgres      → lifeboat_drill_20261121t020000z_3f9a  (maintenance db: default prefix)
 *   postgres://drill@db:5432/orders_drill  → orders_drill_20261121t020000z_3f9a
 *
 * The drill creates that database (CREATE DATABASE refuses an existing one, so nobody else's database is ever
 * touched), restores into it and always drops it.
 */
import { randomBytes } from 'node:crypto';
import { compactTimestamp } from '../contract/layout';
import { usageError } from '../errors';

export const DEFAULT_SCRATCH_PREFIX = 'lifeboat_drill';
/** Databases every server has: naming one means "just the server", not a prefix. */
const MAINTENANCE_DATABASES = new Set(['postgres', 'template1', 'defaultdb', 'rdsadmin']);
const PREFIX_PATTERN = /^[a-z_][a-z0-9_]*$/;
/** PostgreSQL truncates identifiers at 63 bytes; `_<16 chars>_<4 hex>` follows the prefix. */
const MAX_PREFIX = 63 - 1 - 16 - 1 - 4;

export function scratchPrefix(urlDatabase: string, flag = '--scratch-url'): string {
  if (MAINTENANCE_DATABASES.has(urlDatabase)) return DEFAULT_SCRATCH_PREFIX;
  if (!PREFIX_PATTERN.test(urlDatabase) || urlDatabase.length > MAX_PREFIX) {
    throw usageError(
      'scratch_prefix_invalid',
      `${flag} names database ${JSON.stringify(urlDatabase)}: as the scratch database prefix it must be lower-case letters, digits and _ (at most ${MAX_PREFIX} characters)`,
      'Name the maintenance database (postgres) to use the default prefix lifeboat_drill',
    );
  }
  return urlDatabase;
}

/** `<prefix>_<utc timestamp, lower case>_<4 hex>`: a valid unquoted identifier that sorts by time. */
export function scratchDatabaseName(prefix: string, at: Date, random: () => string = () => randomBytes(2).toString('hex')): string {
  return `${prefix}_${compactTimestamp(at).toLowerCase()}_${random()}`;
}
