import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, type PgCluster } from './postgres';

let pg: PgCluster;
before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg?.stop();
});

test('the harness starts a real PostgreSQL with password auth on TCP', async () => {
  const rows = await pg.query<{ v: string }>('select current_setting(\'server_version\') as v');
  assert.match(rows[0]!.v, /^\d+\.\d+/);
  const fsync = await pg.query<{ fsync: string }>('show fsync');
  assert.equal(fsync[0]!.fsync, 'off');
});
