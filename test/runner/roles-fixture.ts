/**
 * A source database that uses roles the way applications do, and ways to compare what a restore gave back with it:
 * a non-default owner, an application role with grants and default privileges, a policy to a role, role
 * settings (ALTER ROLE ... SET and ... IN DATABASE ... SET), a membership chain, database settings, a revoked
 * CONNECT from PUBLIC, a LATIN1 encoding. A second, fresh cluster has none of its roles.
 */
import type { PgCluster } from '../harness/postgres';
import { schemaDump, tableChecksums } from './pg-fixtures';

/** Cluster-wide: the roles. `unrelated` is referenced by nothing in the database and must not be recorded. */
export const FIXTURE_ROLES_SQL = `
CREATE ROLE app_base NOLOGIN;
CREATE ROLE app_rw NOLOGIN IN ROLE app_base;
CREATE ROLE alice LOGIN PASSWORD 'Alice-pw-7Hq' CONNECTION LIMIT 5 VALID UNTIL '2031-01-01 00:00:00+00' IN ROLE app_rw;
CREATE ROLE shop_owner NOLOGIN CREATEDB;
CREATE ROLE auditor NOLOGIN;
CREATE ROLE report_reader NOLOGIN;
CREATE ROLE unrelated LOGIN;
ALTER ROLE app_rw SET statement_timeout = '30s';
ALTER ROLE alice SET search_path = sales, "Odd Schema", public;
COMMENT ON ROLE app_rw IS 'read-write application role';
`;

/** The database itself: run on the maintenance database, one statement at a time. */
export const FIXTURE_DATABASE_SQL = [
  `CREATE DATABASE shop OWNER shop_owner ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0 CONNECTION LIMIT 40`,
  `ALTER DATABASE shop SET work_mem = '8MB'`,
  `ALTER DATABASE shop SET search_path = sales, public`,
  `ALTER ROLE alice IN DATABASE shop SET work_mem = '16MB'`,
  `REVOKE CONNECT ON DATABASE shop FROM PUBLIC`,
  `GRANT CONNECT ON DATABASE shop TO app_rw`,
  `COMMENT ON DATABASE shop IS 'the shop, in LATIN1'`,
];

/** Inside the database. */
export const FIXTURE_SCHEMA_SQL = `
CREATE SCHEMA sales AUTHORIZATION shop_owner;
SET ROLE shop_owner;
CREATE TABLE sales.customers (id bigserial PRIMARY KEY, name text NOT NULL, region text NOT NULL);
CREATE TABLE sales.orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES sales.customers(id), total numeric(12,2) NOT NULL, owner_name text NOT NULL);
CREATE VIEW sales.order_totals AS SELECT customer_id, sum(total) AS total FROM sales.orders GROUP BY customer_id;
ALTER DEFAULT PRIVILEGES IN SCHEMA sales GRANT SELECT, INSERT, UPDATE ON TABLES TO app_rw;
ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO report_reader;
CREATE TABLE sales.invoices (id bigserial PRIMARY KEY, order_id bigint REFERENCES sales.orders(id), note text);
GRANT USAGE ON SCHEMA sales TO app_rw, auditor;
GRANT SELECT, INSERT, UPDATE, DELETE ON sales.orders, sales.customers TO app_rw;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA sales TO app_rw;
GRANT SELECT ON sales.order_totals TO auditor;
ALTER TABLE sales.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_orders ON sales.orders FOR ALL TO app_rw USING (owner_name = current_user);
CREATE POLICY audit_all ON sales.orders FOR SELECT TO auditor USING (true);
RESET ROLE;
INSERT INTO sales.customers (name, region) SELECT 'Kunde ' || g || ' caf' || chr(233), 'r' || (g % 4) FROM generate_series(1, 50) g;
INSERT INTO sales.orders (customer_id, total, owner_name) SELECT 1 + g % 50, g * 1.25, CASE WHEN g % 2 = 0 THEN 'alice' ELSE 'bob' END FROM generate_series(1, 300) g;
INSERT INTO sales.invoices (order_id, note) SELECT g, 'n' || g FROM generate_series(1, 100) g;
`;

export async function createRolesSource(pg: PgCluster, database = 'shop'): Promise<void> {
  await pg.query(FIXTURE_ROLES_SQL);
  for (const sql of FIXTURE_DATABASE_SQL) await pg.query(sql.replace(/\bshop\b/g, database));
  await pg.query(FIXTURE_SCHEMA_SQL, database);
}

/** The database's properties as a comparable value (name left out: a restore may rename it). */
export async function databaseProperties(pg: PgCluster, database: string): Promise<Record<string, unknown>> {
  const [d] = await pg.query<Record<string, unknown>>(
    `SELECT pg_get_userbyid(d.datdba) AS owner, pg_encoding_to_char(d.encoding) AS encoding, d.datcollate, d.datctype,
            d.datlocprovider, d.datconnlimit, shobj_description(d.oid, 'pg_database') AS comment,
            -- As a set: the order of an ACL's items means nothing.
            (SELECT array_agg(x ORDER BY x) FROM (
               SELECT format('%s:%s:%s', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, a.privilege_type, a.is_grantable) AS x
                 FROM aclexplode(d.datacl) a) acl) AS acl,
            (SELECT array_agg(x ORDER BY x) FROM (
               SELECT format('%s=%s', CASE WHEN s.setrole = 0 THEN '*' ELSE pg_get_userbyid(s.setrole) END, array_to_string(s.setconfig, ';')) AS x
                 FROM pg_db_role_setting s WHERE s.setdatabase = d.oid) st) AS settings
       FROM pg_database d WHERE d.datname = '${database}'`,
  );
  return d!;
}

/** The fixture's roles as a comparable value: attributes, settings, comments, memberships. */
export async function roleDescriptions(pg: PgCluster, names: readonly string[]): Promise<Record<string, unknown>[]> {
  const list = names.map((n) => `'${n}'`).join(', ');
  return pg.query(
    `SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolreplication, r.rolbypassrls,
            r.rolconnlimit, r.rolvaliduntil, shobj_description(r.oid, 'pg_authid') AS comment,
            (SELECT s.setconfig FROM pg_db_role_setting s WHERE s.setrole = r.oid AND s.setdatabase = 0) AS settings,
            (SELECT array_agg(g.rolname ORDER BY g.rolname) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid) AS member_of
       FROM pg_roles r WHERE r.rolname IN (${list}) ORDER BY r.rolname`,
  );
}

/** Everything a restore must give back, for a before/after comparison. */
export async function snapshotOf(pg: PgCluster, database: string): Promise<{ schema: string; properties: Record<string, unknown>; data: Record<string, string> }> {
  return {
    // pg_dump --schema-only with owners and privileges (its defaults).
    schema: schemaDump(pg, database),
    properties: await databaseProperties(pg, database),
    data: await tableChecksums(pg, database),
  };
}

/** The roles the fixture's database references (directly or by membership). */
export const FIXTURE_REFERENCED_ROLES = ['alice', 'app_base', 'app_rw', 'auditor', 'report_reader', 'shop_owner'];
