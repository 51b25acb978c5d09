/**
 * `lifeboat report` over a store a real PostgreSQL filled (backups of two sources, a drill that passed and one
 * that missed its RPO), opened in headless Chromium: the page shows the unhealthy source at the top, each
 * source's charts, classes, drills with RTO and RPO, and its screenshot is not blank. The page fetches nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { requireOnPath } from '../harness/binaries';
import { finalEvent, runCli } from '../runner/cli-harness';
import { findGaps } from '../../runner/report/gather';

let pg: PgCluster;
let dir: string;
let storage: string;

before(async () => {
  pg = await startPostgres({ password: `Rep/${Math.random().toString(36).slice(2, 8)}@pw` });
  for (const db of ['shop', 'legacy']) {
    await pg.createDatabase(db);
    await pg.query(`CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 400) g;`, db);
  }
  dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-report-'));
  storage = path.join(dir, 'storage');
});

after(async () => {
  await pg?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Distinct byte values in a PNG's decompressed pixel rows: a blank page has one or two. */
function pngVariety(file: string): number {
  const png = readFileSync(file);
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  const idat: Buffer[] = [];
  for (let off = 8; off < png.length; ) {
    const len = png.readUInt32BE(off);
    const type = png.subarray(off + 4, off + 8).toString('latin1');
    if (type === 'IDAT') idat.push(png.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  return new Set(inflateSync(Buffer.concat(idat))).size;
}

test('the report shows what is unhealthy first, then each source, and renders in Chromium', async () => {
  const chromium = requireOnPath('chromium', 'chromium');
  const env = { DATABASE_URL: '', LIFEBOAT_PLAIN_ERRORS: '0' };
  for (let i = 0; i < 3; i++) {
    const r = await runCli(['backup', '--storage', storage, '--database-url', pg.url('shop'), ...(i ? ['--class', 'manual'] : [])], env);
    assert.equal(r.code, 0, r.stderr);
  }
  assert.equal((await runCli(['backup', '--storage', storage, '--database-url', pg.url('legacy')], env)).code, 0);
  const passed = await runCli(['drill', '--storage', storage, '--source', 'shop', '--scratch-url', pg.url('postgres'), '--rpo', '24h', '--rto', '1h'], env);
  assert.equal(passed.code, 0, passed.stderr);
  await new Promise((r) => setTimeout(r, 1100));
  const missed = await runCli(['drill', '--storage', storage, '--source', 'legacy', '--scratch-url', pg.url('postgres'), '--rpo', '1s'], env);
  assert.equal(missed.code, 1, missed.stderr);

  const out = path.join(dir, 'report.html');
  const r = await runCli(['report', '--storage', storage, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(finalEvent(r.stderr)?.event, 'report.succeeded');
  const html = readFileSync(out, 'utf8');
  assert.ok(!/<script|https?:\/\/|src=/.test(html), 'the page is self-contained');
  assert.ok(!html.includes(pg.password) && !html.includes(encodeURIComponent(pg.password)));
  // --out is never overwritten without --force.
  const again = await runCli(['report', '--storage', storage, '--out', out]);
  assert.equal(again.code, 2);
  assert.equal((await runCli(['report', '--storage', storage, '--out', out, '--force'])).code, 0);
  // --source narrows the page to one source.
  const only = await runCli(['report', '--storage', storage, '--source', 'shop']);
  assert.equal(only.code, 0, only.stderr);
  assert.ok(only.stdout.includes('id="source-postgres-shop"') && !only.stdout.includes('legacy'), 'only shop');
  assert.match(only.stdout, /<strong>Healthy:<\/strong> 1 source/);

  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', `--user-data-dir=${path.join(dir, 'chromium')}`];
  const dom = spawnSync(chromium, [...flags, '--dump-dom', `file://${out}`], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(dom.status, 0, dom.stderr);
  const text = dom.stdout.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
  const summary = /Unhealthy \(\d+\):(.*?)source engine backups/.exec(text)?.[1] ?? '';
  assert.match(summary, /postgres\/legacy: the last drill \([^)]+\) failed: rpo/);
  assert.ok(!summary.includes('postgres/shop'), summary);
  for (const phrase of ['Stored size per backup', 'Duration per backup', 'Retention classes held', 'Gaps in the schedule', 'RTO target', 'passed', 'failed', 'manual']) {
    assert.ok(text.includes(phrase), `the page shows ${phrase}`);
  }
  // One bar per backup in each of the two charts of shop (3 backups) and legacy (1).
  assert.equal((dom.stdout.match(/<rect /g) ?? []).length, 2 * 3 + 2 * 1);

  const shot = path.join(dir, 'report.png');
  const s = spawnSync(chromium, [...flags, '--hide-scrollbars', '--window-size=1200,1400', `--screenshot=${shot}`, `file://${out}`], { encoding: 'utf8', timeout: 120_000 });
  assert.ok(existsSync(shot), s.stderr);
  assert.ok(pngVariety(shot) > 20, 'the screenshot is not blank');
  // A blank page of the same size is recognised as blank: the check can fail.
  const blank = path.join(dir, 'blank.html');
  writeFileSync(blank, '<!doctype html><html><body></body></html>');
  const blankShot = path.join(dir, 'blank.png');
  spawnSync(chromium, [...flags, '--hide-scrollbars', '--window-size=1200,1400', `--screenshot=${blankShot}`, `file://${blank}`], { encoding: 'utf8', timeout: 120_000 });
  assert.ok(pngVariety(blankShot) <= 8, `blank variety ${pngVariety(blankShot)}, report ${pngVariety(shot)}`);
});

test('gaps: more than max-age between backups, and from the newest until now', () => {
  const now = new Date('2026-06-10T12:00:00Z');
  const gaps = findGaps(['2026-06-01T00:00:00Z', '2026-06-02T00:00:00Z', '2026-06-05T00:00:00Z', '2026-06-09T00:00:00Z'], now, 26 * 3600);
  assert.deepEqual(
    gaps.map((g) => [g.from.slice(0, 10), g.to.slice(0, 10), g.open]),
    [
      ['2026-06-02', '2026-06-05', false],
      ['2026-06-05', '2026-06-09', false],
      ['2026-06-09', '2026-06-10', true],
    ],
  );
  assert.deepEqual(findGaps(['2026-06-10T00:00:00Z'], now, 26 * 3600), []);
});
