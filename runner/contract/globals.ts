/**
 * The globals object of a PostgreSQL backup (`globals.json`, `.age` appended when the payload is encrypted): what
 * a restore onto a fresh server needs besides the archive. pg_dump's archive holds the database's objects but
 * not the roles they name (cluster-wide objects), and pg_restore restores the database's own properties (its
 * owner, settings, ACL, encoding and locale) only into a database of the source's own name. So each backup
 * records, read in the dump's own snapshot:
 *
 * - the roles the database references (owners, grantees, default-privilege grantees, policy roles, roles with
 *   settings in it), the roles they are members of, and the roles that are members of them, transitively; with
 *   their attributes, per-role settings and comments; password hashes only when asked (`backup --role-passwords`);
 * - the memberships among them;
 * - the database itself: owner, encoding, locale, connection limit, ACL, comment, `ALTER DATABASE ... SET` and
 *   `ALTER ROLE ... IN DATABASE ... SET`.
 *
 * - a fingerprint of the database's catalog (objects by kind, owners, ACLs, policies), which drills compare the
 *   restored database with.
 *
 * The manifest records the object's name, size and sha256 (`globals` in manifest.ts), never its content.
 */
import { z } from 'zod';

export const GLOBALS_FORMAT_VERSION = 1;

/** Why a backup recorded a role. */
export const ROLE_REFERENCES = ['owner', 'grantee', 'policy', 'setting', 'member-of-referenced', 'member'] as const;
export type RoleReference = (typeof ROLE_REFERENCES)[number];

export const RoleSchema = z.object({
  name: z.string().min(1),
  superuser: z.boolean(),
  inherit: z.boolean(),
  createRole: z.boolean(),
  createDb: z.boolean(),
  login: z.boolean(),
  replication: z.boolean(),
  bypassRls: z.boolean(),
  /** -1: no limit. */
  connectionLimit: z.number().int(),
  /** ISO time, or null for no expiry. */
  validUntil: z.string().nullable(),
  /** The stored password hash (SCRAM or md5); only with `backup --role-passwords`. A secret. */
  password: z.string().optional(),
  /** `ALTER ROLE ... SET` entries as the catalog holds them (`name=value`). */
  settings: z.array(z.string()),
  comment: z.string().nullable(),
  /**
   * How the database references the role. `member-of-referenced`: a referenced role is a member of it (its
   * privileges reach the database through that membership); `member`: a member of a referenced role (a login
   * role that works through a group), recorded so a DR restore brings its users back.
   */
  referencedAs: z.array(z.enum(ROLE_REFERENCES)).min(1),
  /** A restore fails without it: referenced directly, or a role a referenced one is a member of. */
  required: z.boolean(),
});
export type GlobalRole = z.infer<typeof RoleSchema>;

export const MembershipSchema = z.object({
  /** The group role. */
  role: z.string(),
  member: z.string(),
  adminOption: z.boolean(),
  /** PostgreSQL 16+: whether the member inherits the role's privileges; absent before. */
  inheritOption: z.boolean().optional(),
  /** PostgreSQL 16+: whether the member may SET ROLE to it; absent before. */
  setOption: z.boolean().optional(),
});
export type GlobalMembership = z.infer<typeof MembershipSchema>;

export const DatabasePropertiesSchema = z.object({
  /** The source database's name (a restore may give it another). */
  name: z.string(),
  owner: z.string(),
  /** e.g. UTF8, LATIN1 */
  encoding: z.string(),
  /** libc, icu or builtin (PostgreSQL 15+; libc before). */
  localeProvider: z.enum(['libc', 'icu', 'builtin']),
  collate: z.string(),
  ctype: z.string(),
  /** The ICU or builtin locale; null for libc. */
  locale: z.string().nullable(),
  /** ICU rules (PostgreSQL 16+); null when none. */
  icuRules: z.string().nullable().default(null),
  connectionLimit: z.number().int(),
  /** The ACL as aclexplode gives it; null: the default ACL (PUBLIC may connect and create temp tables). */
  acl: z.array(z.object({ grantee: z.string().nullable(), privilege: z.string(), grantable: z.boolean() })).nullable(),
  comment: z.string().nullable(),
  /** `ALTER DATABASE ... SET` entries (`name=value`). */
  settings: z.array(z.string()),
  /** `ALTER ROLE ... IN DATABASE ... SET` entries per role. */
  roleSettings: z.array(z.object({ role: z.string(), settings: z.array(z.string()) })),
});
export type DatabaseProperties = z.infer<typeof DatabasePropertiesSchema>;

/** One object of the catalog fingerprint (runner/pg/catalog-fingerprint.ts). */
export const CatalogEntrySchema = z.object({
  /** table, view, index, function, policy, trigger, constraint, default privileges, ... */
  kind: z.string(),
  /** Schema-qualified, quoted as needed. */
  name: z.string(),
  owner: z.string().nullable(),
  /** What else must survive a restore: the sorted ACL, a policy's roles and expressions, a definition. */
  detail: z.string().nullable(),
});
export type CatalogEntry = z.infer<typeof CatalogEntrySchema>;

export const GlobalsSchema = z.object({
  formatVersion: z.literal(GLOBALS_FORMAT_VERSION),
  roles: z.array(RoleSchema),
  memberships: z.array(MembershipSchema),
  database: DatabasePropertiesSchema,
  /** The catalog fingerprint in the dump's snapshot, which drills compare a restore with. */
  catalog: z.array(CatalogEntrySchema).optional(),
});
export type Globals = z.infer<typeof GlobalsSchema>;
export type GlobalsInput = z.input<typeof GlobalsSchema>;

/** Parses a stored globals object; `where` names it in the error. */
export function parseGlobals(text: string, where: string): Globals {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`globals ${where} is not valid JSON: ${(e as Error).message}`);
  }
  const r = GlobalsSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new Error(`globals ${where} is invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data;
}
