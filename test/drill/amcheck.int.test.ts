import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { runAmcheck } from '../../runner/drill/amcheck';

let pg: PgCluster;
let client: Client;

before(async () => {
  pg = await startPostgres();
  await pg.createDatabase('ix');
  // An index on a function that claims to be IMMUTABLE but is not: once the function's answer changes, the
  // index no longer matches the heap, which bt_index_check(heapallindexed) detects.
  await pg.query(
    `CREATE TABLE cfg (k int); INSERT INTO cfg VALUES (0);
     CREATE FUNCTION shifted(x int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT x + (SELECT k FROM cfg)';
     CREATE TABLE t (id int PRIMARY KEY, x int NOT NULL);
     INSERT INTO t SELECT g, g FROM generate_series(1, 500) g;
     CREATE INDEX t_shifted_idx ON t (shifted(x));
     CREATE INDEX t_hash_idx ON t USING hash (x);`,
    'ix',
  );
  client = new Client({ connectionString: pg.url('ix') });
  await client.connect();
});
after(async () => {
  await client?.end();
  await pg?.stop();
});

test('amcheck passes consistent B-tree indexes and skips other access methods', async () => {
  const r = await runAmcheck(client);
  assert.deepEqual(r, { ran: true, indexesChecked: 2, failures: [] });
});

test('amcheck names an index that does not match its table', async () => {
  await pg.query('UPDATE cfg SET k = 1000', 'ix');
  const r = await runAmcheck(client);
  assert.equal(r.ran, true);
  assert.equal(r.indexesChecked, 2);
  assert.equal(r.failures.length, 1, JSON.stringify(r));
  assert.equal(r.failures[0]!.index, 'public.t_shifted_idx');
  assert.match(r.failures[0]!.error, /lacks matching index tuple/);
});
