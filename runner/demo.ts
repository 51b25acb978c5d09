/**
 * `npm run demo`: the main job end to end on embedded defaults. Starts a throwaway PostgreSQL (the test
 * harness's), fills a small shop database, and runs the real CLI commands against ./.lifeboat/:
 * backup → list → verify with a scratch restore → restore into a new database. Prints a short report, always
 * stops the server, exits 0 when every step passed.
 */
import path from 'node:path';
import { Writable } from 'node:stream';
import { startPostgres, type PgCluster } from '../test/harness/postgres';
import { main } from './cli/main';
import { createLogger } from './log';
import type { RunContext } from './context';
import { humanBytes } from './pipeline/progress';
import { SHOP_SQL } from './demo/shop';

const STORAGE = path.resolve(process.cwd(), '.lifeboat');

interface Step {
  name: string;
  ok: boolean;
  detail: string;
}

/** Runs one CLI command in-process; its stdout is returned, warnings and errors go to our stderr. */
async function lifeboat(argv: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const stdout = new Writable({
    write(c: Buffer | string, _e, cb) {
      chunks.push(c.toString());
      cb();
    },
  });
  const ctx: RunContext = {
    env: process.env,
    stdout,
    stderr: process.stderr,
    logger: createLogger({ destination: process.stderr, pretty: true, level: 'warn' }),
    now: () => new Date(),
    signal: new AbortController().signal,
  };
  const code = await main(argv, ctx);
  return { code, out: chunks.join('') };
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

async function run(pg: PgCluster, steps: Step[]): Promise<void> {
  const say = (s: string): void => void process.stdout.write(`${s}\n`);
  await pg.createDatabase('shop');
  await pg.query(SHOP_SQL, 'shop');
  const counts = await pg.query<{ t: string; n: string }>(
    `SELECT 'customers' AS t, count(*) AS n FROM customers UNION ALL SELECT 'products', count(*) FROM products
     UNION ALL SELECT 'orders', count(*) FROM orders UNION ALL SELECT 'order_items', count(*) FROM order_items`,
    'shop',
  );
  say(`shop database ready: ${counts.map((c) => `${c.n} ${c.t}`).join(', ')}\n`);

  const storage = ['--storage', STORAGE];
  say('1. lifeboat backup');
  const b = await lifeboat(['backup', ...storage, '--database-url', pg.url('shop'), '--json']);
  if (b.code !== 0) throw new Error(`backup failed (exit ${b.code})`);
  const m = JSON.parse(b.out) as { id: string; class: string; payload: { rawBytes: number; storedBytes: number; sha256: string }; tables: { name: string; rows: number }[] };
  say(indent(`backup ${m.id} (class ${m.class}): ${humanBytes(m.payload.rawBytes)} dump → ${humanBytes(m.payload.storedBytes)} stored, sha256 ${m.payload.sha256.slice(0, 16)}…`));
  say(indent(`row counts in the dump's snapshot: ${m.tables.map((t) => `${t.name}=${t.rows}`).join(', ')}`));
  steps.push({ name: 'backup', ok: true, detail: m.id });

  say('\n2. lifeboat list');
  const l = await lifeboat(['list', ...storage]);
  const listed = l.code === 0 && l.out.includes(m.id);
  say(indent(l.out));
  steps.push({ name: 'list', ok: listed, detail: listed ? 'the new backup is listed' : `exit ${l.code}` });

  say('\n3. lifeboat verify --restore-into (a scratch database, dropped afterwards)');
  const v = await lifeboat(['verify', m.id, ...storage, '--restore-into', pg.url('shop_verify_scratch')]);
  say(indent(v.out));
  steps.push({ name: 'verify', ok: v.code === 0, detail: v.code === 0 ? 'checksum, full read and scratch restore ok' : `exit ${v.code}` });

  say('\n4. lifeboat restore --create (into a new database "shop_restored")');
  const r = await lifeboat(['restore', m.id, ...storage, '--target-url', pg.url('shop_restored'), '--create', '--jobs', '2']);
  say(indent(r.out));
  const check = await pg.query<{ revenue: string }>(`SELECT sum(total)::text AS revenue FROM order_totals`, 'shop_restored');
  const original = await pg.query<{ revenue: string }>(`SELECT sum(total)::text AS revenue FROM order_totals`, 'shop');
  const same = check[0]?.revenue === original[0]?.revenue;
  steps.push({
    name: 'restore',
    ok: r.code === 0 && same,
    detail: r.code === 0 ? `row counts match; revenue via the view: ${check[0]?.revenue} (${same ? 'same as the source' : 'DIFFERENT'})` : `exit ${r.code}`,
  });
}

async function demo(): Promise<number> {
  process.stdout.write('Lifeboat demo: starting a throwaway PostgreSQL…\n');
  const steps: Step[] = [];
  let pg: PgCluster | undefined;
  let failure: unknown;
  try {
    pg = await startPostgres();
    process.stdout.write(`PostgreSQL running on 127.0.0.1:${pg.port}; backups go to ${STORAGE}\n\n`);
    await run(pg, steps);
  } catch (e) {
    failure = e;
  } finally {
    await pg?.stop();
  }
  const ok = !failure && steps.length === 4 && steps.every((s) => s.ok);
  process.stdout.write('\nReport\n');
  for (const s of steps) process.stdout.write(`  ${s.ok ? 'ok  ' : 'FAIL'}  ${s.name.padEnd(8)} ${s.detail}\n`);
  if (failure) process.stdout.write(`  FAIL  ${(failure as Error).message}\n`);
  process.stdout.write(`  server stopped; backups kept in ${STORAGE} (lifeboat list --storage .lifeboat)\n`);
  process.stdout.write(ok ? '\nAll steps passed.\n' : '\nThe demo FAILED.\n');
  return ok ? 0 : 1;
}

demo().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`demo: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
