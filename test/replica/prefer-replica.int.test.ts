import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { startReplica, waitForReplay, waitForReplayBehind } from '../harness/replica';
import { freePort } from '../harness/ports';
import { finalEvent, runCli } from '../runner/cli-harness';
import { RICH_DATA_SQL, RICH_SCHEMA_SQL } from '../runner/pg-fixtures';
import { ManifestSchema, type Manifest } from '../../runner/contract/manifest';

let primary: PgCluster;
let replica: PgCluster;
let storage: string;

before(async () => {
  primary = await startPostgres();
  await primary.createDatabase('shop');
  await primary.query(RICH_SCHEMA_SQL + RICH_DATA_SQL, 'shop');
  replica = await startReplica(primary);
  // Lag is measured from the last replayed commit. A replica made by pg_basebackup after the data was loaded has
  // replayed none until the primary commits again, and its lag "cannot be told" (a different fallback): give it
  // one commit to replay, so every test sees a lag that is a number.
  await primary.query('CREATE TABLE replay_marker ()', 'shop');
  await waitForReplay(primary, replica);
  storage = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-replica-'));
});
after(async () => {
  await replica?.stop();
  await primary?.stop();
  if (storage) rmSync(storage, { recursive: true, force: true });
});

async function backup(replicaUrl: string, maxLag: string): Promise<{ manifest: Manifest; stderr: string }> {
  const r = await runCli([
    'backup', '--storage', storage, '--database-url', primary.url('shop'), '--class', 'manual', '--json',
    '--prefer-replica', replicaUrl, '--max-lag', maxLag,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(finalEvent(r.stderr)!.event, 'backup.succeeded');
  assert.doesNotMatch(r.stdout + r.stderr, new RegExp(primary.password));
  return { manifest: ManifestSchema.parse(JSON.parse(r.stdout)), stderr: r.stderr };
}

function orders(m: Manifest): number | null | undefined {
  return m.tables.find((t) => t.schema === 'sales' && t.name === 'orders')?.rows;
}

function warnings(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { severity: string; message: string })
    .filter((o) => o.severity === 'WARNING')
    .map((o) => o.message);
}

test('a caught-up streaming replica is dumped from; the manifest says replica and its lag', async () => {
  const { manifest, stderr } = await backup(replica.url('shop'), '60s');
  assert.equal(manifest.sourceInfo.role, 'replica');
  assert.equal(manifest.sourceInfo.port, replica.port);
  assert.equal(typeof manifest.sourceInfo.replicaLagSeconds, 'number');
  assert.ok(manifest.sourceInfo.replicaLagSeconds! <= 60);
  assert.equal(manifest.source, 'shop');
  assert.equal(orders(manifest), 2000);
  assert.deepEqual(warnings(stderr), []);

  // The dump taken on the standby restores with the counts it promised.
  const v = await runCli(['verify', manifest.id, '--storage', storage, '--restore-into', primary.url('from_replica')]);
  assert.equal(v.code, 0, v.stderr);
});

test('the replay lag over --max-lag: the primary is dumped, with a warning saying why', async () => {
  await replica.query('SELECT pg_wal_replay_pause()');
  try {
    await primary.query(`INSERT INTO sales.orders (customer_id, total, placed_at) VALUES (1, 1, now())`, 'shop');
    await waitForReplayBehind(replica);
    const { manifest, stderr } = await backup(replica.url('shop'), '0s');
    assert.equal(manifest.sourceInfo.role, 'primary');
    assert.equal(manifest.sourceInfo.port, primary.port);
    assert.equal(manifest.sourceInfo.replicaLagSeconds, null);
    assert.equal(orders(manifest), 2001, 'the primary has the row the paused replica has not replayed');
    const w = warnings(stderr);
    assert.equal(w.length, 1, w.join('\n'));
    assert.match(w[0]!, new RegExp(`not dumping from replica 127\\.0\\.0\\.1:${replica.port}/shop: its replay lag [\\d.]+s exceeds --max-lag 0s; dumping from the primary`));
  } finally {
    await replica.query('SELECT pg_wal_replay_resume()');
  }
  await waitForReplay(primary, replica);
});

test('a server that is not a standby is not used as the replica', async () => {
  const { manifest, stderr } = await backup(primary.url('shop'), '60s');
  assert.equal(manifest.sourceInfo.role, 'primary');
  assert.match(warnings(stderr)[0]!, /it is not a standby \(pg_is_in_recovery\(\) is false\)/);
});

test('a replica that is down or unreachable: the primary is dumped, with a warning', async () => {
  const nowhere = `postgres://${primary.user}:${encodeURIComponent(primary.password)}@127.0.0.1:${await freePort()}/shop`;
  const first = await backup(nowhere, '60s');
  assert.equal(first.manifest.sourceInfo.role, 'primary');
  assert.match(warnings(first.stderr)[0]!, /cannot be reached or queried \(cannot reach PostgreSQL at 127\.0\.0\.1:\d+/);

  await replica.stop();
  const second = await backup(replica.url('shop'), '60s');
  assert.equal(second.manifest.sourceInfo.role, 'primary');
  assert.equal(second.manifest.sourceInfo.port, primary.port);
  assert.match(warnings(second.stderr)[0]!, new RegExp(`not dumping from replica 127\\.0\\.0\\.1:${replica.port}/shop: it cannot be reached`));
});
