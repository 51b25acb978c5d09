/**
 * Partitioned tables named with --table (resolveTablesWithPartitions over the manifest's partitionOf), the manifest
 * field itself (optional: older manifests parse), and the SQL a --table --clean restore wraps pg_restore's in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifest } from '../../runner/contract/manifest';
import { resolveTablesWithPartitions, type BackupTable } from '../../runner/pg/tables';
import { postludeSql, preludeSql } from '../../runner/restore/replace';

const p = (name: string): { schema: string; name: string } => ({ schema: 'public', name });
const known: BackupTable[] = [
  { ...p('customer') },
  // payment → payment_2022 (itself partitioned) → two leaves; payment_2023 a leaf.
  { ...p('payment_2022_01'), partitionOf: [p('payment_2022'), p('payment')] },
  { ...p('payment_2022_02'), partitionOf: [p('payment_2022'), p('payment')] },
  { ...p('payment_2023'), partitionOf: [p('payment')] },
];

test('a partitioned parent stands for itself, every level below it and its leaves', () => {
  const r = resolveTablesWithPartitions(['public.payment'], known, 'backup x');
  assert.deepEqual(r.tables, [
    { ...p('payment'), partitioned: true },
    { ...p('payment_2022'), partitioned: true },
    p('payment_2022_01'),
    p('payment_2022_02'),
    p('payment_2023'),
  ]);
  assert.deepEqual(r.leaves, [p('payment_2022_01'), p('payment_2022_02'), p('payment_2023')]);
});

test('a partition in the middle brings its own leaves only; a leaf and a plain table stand alone', () => {
  assert.deepEqual(resolveTablesWithPartitions(['payment_2022'], known, 'backup x').leaves, [p('payment_2022_01'), p('payment_2022_02')]);
  assert.deepEqual(resolveTablesWithPartitions(['payment_2023', 'customer'], known, 'backup x').tables, [p('payment_2023'), p('customer')]);
  assert.throws(() => resolveTablesWithPartitions(['public.nope'], known, 'backup x'), /--table public\.nope: no such table in backup x/);
});

test('the manifest records partitionOf per table; a manifest without it still parses', () => {
  const base = {
    formatVersion: 1, id: '20260101T000000Z-abcd', class: 'manual', engine: 'postgres', source: 's', kind: 'full',
    startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:01Z', snapshotAt: '2026-01-01T00:00:00Z', durationSeconds: 1,
    server: { version: '15.1' }, tools: {}, sourceInfo: { host: 'h' },
    payload: { object: 'dump.pgc.zst', rawBytes: 1, storedBytes: 1, sha256: 'a'.repeat(64), compression: 'zstd', encryption: null },
  };
  const old = parseManifest(JSON.stringify({ ...base, tables: [{ schema: 'public', name: 'payment_2023', rows: 3 }] }), 'old');
  assert.equal(old.tables[0]!.partitionOf, undefined);
  const now = parseManifest(JSON.stringify({ ...base, tables: [{ schema: 'public', name: 'payment_2023', rows: 3, partitionOf: [p('payment')] }] }), 'new');
  assert.deepEqual(now.tables[0]!.partitionOf, [p('payment')]);
  assert.throws(() => parseManifest(JSON.stringify({ ...base, tables: [{ schema: 'public', name: 'x', rows: 3, partitionOf: [] }] }), 'bad'), /tables\.0\.partitionOf/);
});

test('the wrapping SQL: one transaction; inbound keys dropped first and made again each in its own subtransaction; partitions detached', () => {
  const ties = {
    inbound: [{ table: 'public.film_actor', name: 'film_actor_film_id_fkey', definition: 'FOREIGN KEY (film_id) REFERENCES public.film(film_id) ON UPDATE CASCADE' }],
    partitions: [{ parent: 'public.payment', partition: 'public.payment_2023' }],
  };
  assert.equal(preludeSql(ties), 'BEGIN;\nALTER TABLE public.film_actor DROP CONSTRAINT "film_actor_film_id_fkey";\nALTER TABLE public.payment DETACH PARTITION public.payment_2023;\n');
  const post = postludeSql(ties);
  assert.match(post, /^DO \$lifeboat\$ BEGIN ALTER TABLE public\.film_actor ADD CONSTRAINT "film_actor_film_id_fkey" FOREIGN KEY .* EXCEPTION WHEN foreign_key_violation OR .* THEN NULL; END \$lifeboat\$;\nCOMMIT;\n$/);
  // A definition holding the tag gets another one.
  const odd = postludeSql({ inbound: [{ ...ties.inbound[0]!, name: 'x$lifeboat$y' }], partitions: [] });
  assert.match(odd, /^DO \$lifeboat0\$ /);
});
