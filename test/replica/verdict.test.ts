import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replicaVerdict, type ReplicaProbe } from '../../runner/pg/replica';

const ok: ReplicaProbe = { standby: true, lagSeconds: 3, systemIdentifier: '7300000000000000001' };

test('replicaVerdict: which replicas may be dumped from, and why not', () => {
  const cases: [string, ReplicaProbe, number, string | null, RegExp | null][] = [
    ['within the bound', ok, 60, '7300000000000000001', null],
    ['exactly at the bound', { ...ok, lagSeconds: 60 }, 60, null, null],
    ['caught up, zero bound', { ...ok, lagSeconds: 0 }, 0, null, null],
    ['over the bound', { ...ok, lagSeconds: 60.5 }, 60, null, /replay lag 60\.5s exceeds --max-lag 60s/],
    ['not a standby', { ...ok, standby: false }, 60, null, /not a standby/],
    ['lag unknown', { ...ok, lagSeconds: null }, 60, null, /cannot be told/],
    ['another cluster', ok, 60, '7300000000000000002', /not a replica of the primary/],
    ['identifier not readable on the replica', { ...ok, systemIdentifier: null }, 60, '7300000000000000002', null],
    ['identifier not readable on the primary', ok, 60, null, null],
  ];
  for (const [name, probe, max, primaryId, want] of cases) {
    const got = replicaVerdict(probe, max, primaryId);
    if (want === null) assert.equal(got, null, name);
    else assert.match(got ?? '', want, name);
  }
});
