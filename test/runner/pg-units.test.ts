import { test } from 'node:test';
import assert from 'node:assert/strict';
import { candidatePaths, selectTool, parseToolVersion, serverMajor, type ToolCandidate, type ToolFs } from '../../runner/pg/tools';
import { compareRowCounts, formatComparison, parseTableName, resolveTables } from '../../runner/pg/tables';
import { parseDatabaseUrl, pgToolEnv } from '../../runner/pg/connection';
import { clearRegisteredSecrets, redact } from '../../runner/redact';
import { LifeboatError } from '../../runner/errors';

const c = (major: number, p = `/usr/lib/postgresql/${major}/bin/pg_dump`): ToolCandidate => ({ path: p, major, version: `${major}.1` });

test('selectTool: the exact major if present, else the lowest newer one, never an older one', () => {
  const cases: { have: number[]; server: number; want: number | null }[] = [
    { have: [15], server: 15, want: 15 },
    { have: [13, 15, 16], server: 15, want: 15 },
    { have: [17, 16], server: 15, want: 16 },
    { have: [13, 14], server: 15, want: null },
    { have: [], server: 15, want: null },
    { have: [16, 18, 17], server: 17, want: 17 },
    { have: [12], server: 9, want: 12 },
  ];
  for (const { have, server, want } of cases) {
    const got = selectTool(have.map((m) => c(m)), server);
    assert.equal(got?.major ?? null, want, `have ${have.join(',')} for server ${server}`);
  }
});

test('candidatePaths: each versioned install, then PATH; one file asked once; Debian\'s wrapper only when nothing else is there', () => {
  const wrapper = '/usr/share/postgresql-common/pg_wrapper';
  // A merged-/usr Debian with 15 and 17 side by side: /bin is /usr/bin, whose pg_dump is the wrapper.
  const debian = (majors: string[], files: Record<string, string>): ToolFs => ({ majors: () => majors, realFile: (p) => files[p] ?? null });
  const both = debian(['15', '17'], {
    '/usr/lib/postgresql/15/bin/pg_dump': '/usr/lib/postgresql/15/bin/pg_dump',
    '/usr/lib/postgresql/17/bin/pg_dump': '/usr/lib/postgresql/17/bin/pg_dump',
    '/usr/bin/pg_dump': wrapper,
    '/bin/pg_dump': wrapper,
    '/opt/pg18/bin/pg_dump': '/opt/pg18/bin/pg_dump',
  });
  assert.deepEqual(candidatePaths('pg_dump', { PATH: '/usr/local/bin:/usr/bin:/bin' }, both), ['/usr/lib/postgresql/15/bin/pg_dump', '/usr/lib/postgresql/17/bin/pg_dump']);
  // Another build on PATH is a candidate of its own.
  assert.deepEqual(candidatePaths('pg_dump', { PATH: '/opt/pg18/bin:/usr/bin' }, both), ['/usr/lib/postgresql/15/bin/pg_dump', '/usr/lib/postgresql/17/bin/pg_dump', '/opt/pg18/bin/pg_dump']);
  // A PATH entry that is a versioned install by another name is asked once.
  const linked = debian(['16'], { '/usr/lib/postgresql/16/bin/pg_dump': '/usr/lib/postgresql/16/bin/pg_dump', '/usr/local/bin/pg_dump': '/usr/lib/postgresql/16/bin/pg_dump' });
  assert.deepEqual(candidatePaths('pg_dump', { PATH: '/usr/local/bin' }, linked), ['/usr/lib/postgresql/16/bin/pg_dump']);
  // Nothing versioned: the wrapper (or whatever PATH has) is all there is.
  const only = debian([], { '/usr/bin/pg_dump': wrapper, '/bin/pg_dump': wrapper });
  assert.deepEqual(candidatePaths('pg_dump', { PATH: '/usr/bin:/bin' }, only), ['/usr/bin/pg_dump']);
  assert.deepEqual(candidatePaths('pg_dump', {}, debian([], {})), []);
});

test('parseToolVersion and serverMajor', () => {
  assert.deepEqual(parseToolVersion('pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n'), { version: '15.18', major: 15 });
  assert.deepEqual(parseToolVersion('pg_restore (PostgreSQL) 9.6.24'), { version: '9.6.24', major: 9 });
  assert.deepEqual(parseToolVersion('pg_dump (PostgreSQL) 17devel'), { version: '17', major: 17 });
  assert.equal(parseToolVersion('zstd v1.5.4'), null);
  assert.equal(serverMajor(150018), 15);
  assert.equal(serverMajor(90624), 9);
});

test('parseTableName: bare, qualified, quoted with dots and doubled quotes', () => {
  assert.deepEqual(parseTableName('orders'), { name: 'orders' });
  assert.deepEqual(parseTableName('sales.orders'), { schema: 'sales', name: 'orders' });
  assert.deepEqual(parseTableName('"Audit Log"."Weird ""Table"".Name"'), { schema: 'Audit Log', name: 'Weird "Table".Name' });
  assert.deepEqual(parseTableName('"a.b"'), { name: 'a.b' });
  for (const bad of ['', 'a.b.c', 'a.', '.a', '"open', '"x"y']) {
    assert.throws(() => parseTableName(bad), (e: unknown) => e instanceof LifeboatError && e.exitCode === 2 && /--table expected/.test(e.message), bad);
  }
});

test('resolveTables: unknown and ambiguous names are usage errors naming the argument', () => {
  const known = [
    { schema: 'public', name: 'orders' },
    { schema: 'sales', name: 'orders' },
    { schema: 'sales', name: 'customers' },
  ];
  assert.deepEqual(resolveTables(['customers', 'public.orders'], known, 'db'), [known[2], known[0]]);
  assert.throws(() => resolveTables(['orders'], known, 'db'), /--table orders matches public\.orders, sales\.orders/);
  assert.throws(() => resolveTables(['nope'], known, 'backup X'), /--table nope: no such table in backup X/);
});

test('compareRowCounts: equal counts ok, differences and missing tables are not', () => {
  const rows = compareRowCounts(
    [
      { schema: 'a', name: 'x', rows: 3 },
      { schema: 'a', name: 'y', rows: 5 },
      { schema: 'a', name: 'z', rows: 0 },
    ],
    [
      { schema: 'a', name: 'x', rows: 3 },
      { schema: 'a', name: 'y', rows: 4 },
    ],
  );
  assert.deepEqual(rows.map((r) => r.ok), [true, false, false]);
  assert.equal(rows[2]!.actual, null);
  const text = formatComparison(rows);
  assert.match(text, /a\.y\s+5\s+4\s+MISMATCH/);
  assert.match(text, /a\.z\s+0\s+missing\s+MISMATCH/);
});

test('parseDatabaseUrl registers the password at once and the tool env carries credentials, argv none', () => {
  clearRegisteredSecrets();
  const conn = parseDatabaseUrl('postgresql://backup:p%40ss%2Fw0rd@db.internal:6543/shop?sslmode=require&application_name=lb');
  assert.equal(redact('oops p@ss/w0rd leaked'), 'oops *** leaked');
  assert.deepEqual([conn.host, conn.port, conn.user, conn.database], ['db.internal', 6543, 'backup', 'shop']);
  const env = pgToolEnv(conn, { PATH: '/bin', PGDATABASE: 'wrong', PGHOST: 'elsewhere' });
  assert.equal(env.PGPASSWORD, 'p@ss/w0rd');
  assert.equal(env.PGHOST, 'db.internal');
  assert.equal(env.PGDATABASE, 'shop');
  assert.equal(env.PGSSLMODE, 'require');
  assert.equal(env.PGAPPNAME, 'lb');
  assert.equal(env.PATH, '/bin');
});

test('parseDatabaseUrl: missing, malformed and incomplete URLs are usage errors that never echo the URL', () => {
  const cases: [string | undefined, RegExp][] = [
    [undefined, /no database given/],
    ['not a url secretpw', /is not a valid URL/],
    ['mysql://u:secretpw@h/db', /got scheme "mysql"/],
    ['postgres://u:secretpw@h:5432/', /names no database/],
    ['postgres://:secretpw@h/db', /names no user/],
    ['postgres://u:secret%zzpw@h/db', /--database-url: the password in the URL has malformed percent-encoding/],
    ['postgres://u%G1secretpw:x@h/db', /--database-url: the user in the URL has malformed percent-encoding/],
    ['postgres://u:p@h/db%secretpw', /--database-url: the database name in the URL has malformed percent-encoding/],
  ];
  for (const [url, re] of cases) {
    assert.throws(
      () => parseDatabaseUrl(url),
      (e: unknown) => e instanceof LifeboatError && e.exitCode === 2 && re.test(e.message) && !e.message.includes('secretpw'),
      String(url),
    );
  }
  // A password whose encoding is malformed is still masked wherever it would appear.
  assert.equal(redact('auth failed for secret%zzpw'), 'auth failed for ***');
});

test('findTool: no pg_dump new enough is a usage error naming the server version, what was found and the package', async () => {
  const { findTool } = await import('../../runner/pg/tools');
  await assert.rejects(findTool('pg_dump', 99, 'the server runs PostgreSQL 99.1'), (e: unknown) => {
    assert.ok(e instanceof LifeboatError && e.exitCode === 2 && e.code === 'tool_missing');
    assert.match(e.message, /^no pg_dump of PostgreSQL 99 or newer is installed \(the server runs PostgreSQL 99\.1; found: \d+\.\d+/);
    assert.match(e.hint!, /apt-get install -y postgresql-client-99/);
    return true;
  });
  const found = await findTool('pg_dump', 13, 'test');
  assert.ok(found.major >= 13 && found.path.endsWith('pg_dump'));
});
