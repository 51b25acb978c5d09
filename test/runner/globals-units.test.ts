import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quoteLiteral, setClause, splitGucList } from '../../runner/pg/guc-sql';
import { closeOverMemberships, createRoleSql, grantMembershipSql } from '../../runner/pg/globals';
import { createDatabaseSql, databasePropertiesSql } from '../../runner/pg/database-properties';
import type { DatabaseProperties, GlobalRole, RoleReference } from '../../runner/contract/globals';
import { parseManifest } from '../../runner/contract/manifest';
import { describeCatalogDiff, diffCatalog } from '../../runner/pg/catalog-fingerprint';
import { orderDataEntries } from '../../runner/restore/data-order';

test('settings become SET clauses as pg_dump writes them: list settings one literal per element', () => {
  const cases: [string, string][] = [
    ['work_mem=16MB', `SET work_mem TO '16MB'`],
    ['search_path=sales, "Odd Schema", public', `SET search_path TO 'sales', 'Odd Schema', 'public'`],
    ['search_path="$user", public', `SET search_path TO '$user', 'public'`],
    ['search_path=', `SET search_path TO ''`],
    ["app.greeting=it's", `SET app.greeting TO 'it''s'`],
    ['statement_timeout=30s', `SET statement_timeout TO '30s'`],
    ['DateStyle=ISO, MDY', `SET datestyle TO 'ISO, MDY'`],
    ['app.path=c:\\tmp', `SET app.path TO E'c:\\\\tmp'`],
  ];
  for (const [entry, want] of cases) assert.equal(setClause(entry), want, entry);
  assert.deepEqual(splitGucList(' a ,"b ""c""" , d'), ['a', 'b "c"', 'd']);
  assert.equal(quoteLiteral("o'k"), "'o''k'");
});

const why = (...w: RoleReference[]): Set<RoleReference> => new Set(w);

test('closeOverMemberships: groups of referenced roles are required, their members recorded, nothing else', () => {
  const m = (role: string, member: string) => ({ role, member, admin: false, inherit: null, set: null });
  const memberships = [m('app_base', 'app_rw'), m('app_rw', 'alice'), m('app_rw', 'bob'), m('other', 'bob'), m('pg_read_all_data', 'app_rw'), m('x', 'unrelated')];
  const { roles, memberships: kept } = closeOverMemberships(new Map([['app_rw', why('grantee')]]), memberships);
  assert.deepEqual(
    [...roles].map(([n, r]) => `${n}:${r.required}:${[...r.why].join('+')}`).sort(),
    ['alice:false:member', 'app_base:true:member-of-referenced', 'app_rw:true:grantee', 'bob:false:member'],
  );
  // bob's membership in "other" (not recorded) is left out; the predefined role's is kept.
  assert.deepEqual(kept.map((k) => `${k.member}>${k.role}`).sort(), ['alice>app_rw', 'app_rw>app_base', 'app_rw>pg_read_all_data', 'bob>app_rw']);
});

const role = (over: Partial<GlobalRole> = {}): GlobalRole => ({
  name: 'Alice',
  superuser: false,
  inherit: true,
  createRole: false,
  createDb: false,
  login: true,
  replication: false,
  bypassRls: false,
  connectionLimit: -1,
  validUntil: null,
  settings: [],
  comment: null,
  referencedAs: ['grantee'],
  required: true,
  ...over,
});

test('createRoleSql: every attribute explicit, a limit, expiry and password only when recorded', () => {
  assert.equal(createRoleSql(role()), 'CREATE ROLE "Alice" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS');
  assert.equal(
    createRoleSql(role({ connectionLimit: 3, password: 'SCRAM-SHA-256$x', validUntil: '2031-01-01T00:00:00.000Z' })),
    `CREATE ROLE "Alice" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 3 PASSWORD 'SCRAM-SHA-256$x' VALID UNTIL '2031-01-01T00:00:00.000Z'`,
  );
  const g = { role: 'app', member: 'Alice', adminOption: true, inheritOption: false, setOption: true };
  assert.equal(grantMembershipSql(g, 150000), 'GRANT "app" TO "Alice" WITH ADMIN OPTION');
  assert.equal(grantMembershipSql(g, 160000), 'GRANT "app" TO "Alice" WITH ADMIN TRUE, INHERIT FALSE, SET TRUE');
});

const props: DatabaseProperties = {
  name: 'shop',
  owner: 'shop_owner',
  encoding: 'LATIN1',
  localeProvider: 'libc',
  collate: 'de_DE.ISO-8859-1',
  ctype: 'de_DE.ISO-8859-1',
  locale: null,
  icuRules: null,
  connectionLimit: 40,
  acl: [
    { grantee: null, privilege: 'TEMPORARY', grantable: false },
    { grantee: 'app_rw', privilege: 'CONNECT', grantable: true },
  ],
  comment: "it's the shop",
  settings: ['work_mem=8MB'],
  roleSettings: [{ role: 'alice', settings: ['search_path=a, b'] }],
};

test('the database as pg_restore --create would make it: template0, encoding, locale, then owner, ACL, settings', () => {
  assert.equal(
    createDatabaseSql('shop copy', props, 150000, null),
    `CREATE DATABASE "shop copy" WITH TEMPLATE = template0 ENCODING = 'LATIN1' LOCALE_PROVIDER = libc LC_COLLATE = 'de_DE.ISO-8859-1' LC_CTYPE = 'de_DE.ISO-8859-1'`,
  );
  assert.equal(
    createDatabaseSql('x', { ...props, localeProvider: 'icu', locale: 'de-DE', collate: 'C', ctype: 'C' }, 160000, null),
    `CREATE DATABASE "x" WITH TEMPLATE = template0 ENCODING = 'LATIN1' LOCALE_PROVIDER = icu LC_COLLATE = 'C' LC_CTYPE = 'C' ICU_LOCALE = 'de-DE'`,
  );
  assert.equal(createDatabaseSql('x', props, 150000, { collate: 'C', ctype: 'C' }), `CREATE DATABASE "x" WITH TEMPLATE = template0 ENCODING = 'LATIN1' LOCALE_PROVIDER = libc LC_COLLATE = 'C' LC_CTYPE = 'C'`);
  assert.deepEqual(databasePropertiesSql('shop copy', props), [
    'ALTER DATABASE "shop copy" OWNER TO "shop_owner"',
    'ALTER DATABASE "shop copy" CONNECTION LIMIT = 40',
    `COMMENT ON DATABASE "shop copy" IS 'it''s the shop'`,
    'REVOKE ALL ON DATABASE "shop copy" FROM PUBLIC',
    'REVOKE ALL ON DATABASE "shop copy" FROM "shop_owner"',
    'GRANT TEMPORARY ON DATABASE "shop copy" TO PUBLIC',
    'GRANT CONNECT ON DATABASE "shop copy" TO "app_rw" WITH GRANT OPTION',
    `ALTER DATABASE "shop copy" SET work_mem TO '8MB'`,
    `ALTER ROLE "alice" IN DATABASE "shop copy" SET search_path TO 'a', 'b'`,
  ]);
  // The default ACL (null) is left as CREATE DATABASE made it.
  assert.ok(!databasePropertiesSql('x', { ...props, acl: null }).some((s) => /GRANT|REVOKE/.test(s)));
});

test('a manifest from before globals still parses; one with them parses too', () => {
  const base = {
    formatVersion: 1,
    id: '20261121T020000Z-3f9a',
    class: 'daily',
    engine: 'postgres',
    source: 'shop',
    kind: 'full',
    startedAt: '2026-11-21T02:00:00.000Z',
    finishedAt: '2026-11-21T02:00:01.000Z',
    snapshotAt: '2026-11-21T02:00:00.000Z',
    durationSeconds: 1,
    server: { version: '15.18', versionNum: 150018 },
    tools: {},
    sourceInfo: { host: 'db' },
    payload: { object: 'dump.pgc.zst', rawBytes: 1, storedBytes: 1, sha256: 'a'.repeat(64), compression: 'zstd', encryption: null },
  };
  assert.equal(parseManifest(JSON.stringify(base), 'old').globals, undefined);
  const globals = { object: 'globals.json', bytes: 10, sha256: 'b'.repeat(64), encryption: null, roles: 3, passwords: false };
  assert.deepEqual(parseManifest(JSON.stringify({ ...base, globals }), 'new').globals, globals);
});

test('diffCatalog names what is missing, added, or owned or granted otherwise', () => {
  const e = (kind: string, name: string, owner: string | null, detail: string | null) => ({ kind, name, owner, detail });
  const source = [e('table', 'sales.orders', 'shop_owner', 'app_rw=arwd/shop_owner rls'), e('policy', 'sales.orders.own', null, '* permissive to app_rw'), e('view', 'sales.v', 'shop_owner', null)];
  const same = diffCatalog(source, [...source].reverse());
  assert.deepEqual(describeCatalogDiff(same), []);
  assert.deepEqual(same.kinds, { table: 1, policy: 1, view: 1 });
  const restored = [e('table', 'sales.orders', 'postgres', null), e('view', 'sales.v', 'shop_owner', null), e('index', 'sales.i', 'postgres', null)];
  assert.deepEqual(describeCatalogDiff(diffCatalog(source, restored)), [
    'policy sales.orders.own missing',
    'index sales.i not in the source',
    'table sales.orders owned by postgres, not shop_owner',
    'table sales.orders: (none), not app_rw=arwd/shop_owner rls',
  ]);
});

test('orderDataEntries: referenced tables first (partitions as their root), other entries in place, cycles reported', () => {
  const table = (id: number, schema: string, name: string) => ({ id, label: '', type: 'TABLE', schema, name, deps: [] });
  const data = (id: number, dep: number) => ({ id, label: '', type: 'TABLE DATA', schema: null, name: null, deps: [dep] });
  const seq = { id: 99, label: '', type: 'SEQUENCE SET', schema: 's', name: 'x', deps: [] };
  const entries = [table(1, 's', 'a_child'), table(2, 's', 'b_parent'), table(3, 's', 'p_2025'), table(4, 's', 'p_2026'), table(5, 's', 'z_top'), data(11, 1), seq, data(12, 2), data(13, 3), data(14, 4), data(15, 5)];
  const rootOf = new Map([['s.p_2025', 's.p'], ['s.p_2026', 's.p']]);
  const edges = [
    { child: 's.a_child', parent: 's.b_parent' },
    { child: 's.b_parent', parent: 's.p' },
    { child: 's.p', parent: 's.z_top' },
  ];
  const ids = entries.map((e) => e.id);
  const r = orderDataEntries(entries, ids, edges, rootOf);
  assert.deepEqual(r.cyclic, []);
  assert.deepEqual(r.ids, [1, 2, 3, 4, 5, 15, 99, 13, 14, 12, 11]);
  const cyc = orderDataEntries(entries, ids, [...edges, { child: 's.z_top', parent: 's.a_child' }], rootOf);
  assert.deepEqual(cyc.cyclic.sort(), ['s.a_child', 's.b_parent', 's.p', 's.z_top']);
  assert.deepEqual(cyc.ids, ids, 'a cycle keeps the archive order');
});
