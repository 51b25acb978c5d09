/**
 * The archive formats of the pg_dump versions Debian does not package here: pg_dump 16 writes format 1.15, 17 and
 * 18 write 1.16 (15, the machine's own, writes 1.14: backup-jobs.int.test.ts). The entries backup --jobs adds for
 * its pieces are written by hand (runner/pg/archive-toc.ts), so for each of 16 and 18, on a server of that
 * version: the entry byte for byte pg_dump's own for the same table; a backup --jobs 2 (which then runs that
 * pg_dump) restored streamed by lifeboat (with that pg_restore) and by that pg_restore -j2 from a file, each
 * compared with the database before, schema and rows.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { otherPostgresBinDir } from '../harness/binaries';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { ManifestSchema } from '../../runner/contract/manifest';
import { readArchiveToc } from '../../runner/pg/archive-scan';
import { encodeDataEntry } from '../../runner/pg/archive-toc';
import { runCli } from './cli-harness';
import { PIECED_TABLES_SQL, pgRestoreJobsFromFile, RICH_DATA_SQL, RICH_SCHEMA_SQL, schemaDump, tableChecksums } from './pg-fixtures';

const FORMATS = { 16: '1.15', 18: '1.16' } as const;

for (const major of [16, 18] as const) {
  describe(`pg_dump ${major} (archive format ${FORMATS[major]})`, () => {
    let pg: PgCluster;
    let storage: string;
    let binDir: string;
    // The runner picks its tools by the server's major from PATH and /usr/lib/postgresql: this version's come first.
    const env = (): NodeJS.ProcessEnv => ({ PATH: `${binDir}${path.delimiter}${process.env.PATH}`, LIFEBOAT_PIECE_KIB: '64' });

    before(async () => {
      binDir = otherPostgresBinDir(major);
      pg = await startPostgres({ binDir });
      await pg.createDatabase('shop');
      await pg.query(RICH_SCHEMA_SQL + RICH_DATA_SQL + PIECED_TABLES_SQL, 'shop');
      storage = mkdtempSync(path.join(os.tmpdir(), `lifeboat-format-${major}-`));
    });
    after(async () => {
      await pg?.stop();
      if (storage) rmSync(storage, { recursive: true, force: true });
    });

    test('an added TABLE DATA entry is byte for byte its own entry for the same table', async () => {
      const [server] = await pg.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
      assert.equal(Math.floor(Number(server!.v) / 10000), major);
      // To a pipe, as the backup runs it: entries without positions.
      const bytes = execFileSync('sh', ['-c', `"${path.join(binDir, 'pg_dump')}" -Fc -Z0 -t public.marks shop | cat`], {
        maxBuffer: 1 << 28,
        env: { ...process.env, PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: pg.password },
      });
      const toc = readArchiveToc(bytes)!;
      assert.equal(toc.version, FORMATS[major]);
      const data = toc.entries.find((e) => e.desc === 'TABLE DATA' && e.tag === 'marks')!;
      const table = toc.entries.find((e) => e.desc === 'TABLE' && e.tag === 'marks')!;
      const ours = encodeDataEntry({ id: data.id, table, copyStmt: 'COPY public.marks (id, reading_id) FROM stdin;\n', deps: [table.id] }, toc);
      assert.deepEqual(ours, bytes.subarray(data.start, data.end));
    });

    test('backup --jobs 2, restored streamed and by pg_restore -j2 from a file, gives back the same database', async () => {
      const b = await runCli(['backup', '--storage', storage, '--database-url', pg.url('shop'), '--class', 'manual', '--jobs', '2', '--json'], env());
      assert.equal(b.code, 0, b.stderr);
      const manifest = ManifestSchema.parse(JSON.parse(b.stdout));
      assert.match(manifest.tools.pg_dump ?? '', new RegExp(`^${major}\\.`), 'the backup ran this version of pg_dump');
      const payload = path.join(storage, manifest.class, 'postgres', manifest.source, manifest.id, manifest.payload.object);
      const archive = execFileSync('zstd', ['-dc', payload], { maxBuffer: 1 << 30 });
      const toc = readArchiveToc(archive)!;
      assert.equal(toc.version, FORMATS[major]);
      const pieces = toc.entries.filter((e) => e.desc === 'TABLE DATA' && e.tag === 'Big "Table"');
      assert.ok(pieces.length >= 3, `the quoted table in pieces (and the empty entry before them): ${pieces.length} entries`);

      const r = await runCli(['restore', manifest.id, '--storage', storage, '--target-url', pg.url('shop_streamed'), '--create', '--jobs', '2'], env());
      assert.equal(r.code, 0, r.stderr);
      await pgRestoreJobsFromFile(pg, archive, 'shop_j2');
      const before = await tableChecksums(pg, 'shop');
      for (const db of ['shop_streamed', 'shop_j2']) {
        assert.equal(schemaDump(pg, db), schemaDump(pg, 'shop'), db);
        assert.deepEqual(await tableChecksums(pg, db), before, db);
      }
    });
  });
}
