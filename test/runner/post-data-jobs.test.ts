import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lockConflict, planPostData, PostDataQueue, type PostDataJob } from '../../runner/restore/post-data-jobs';
import { lineFeed, parsePostDataScript, PostDataScriptParser } from '../../runner/restore/post-data-script';
import { splitKeyBuilds } from '../../runner/restore/post-data-keys';
import type { Section } from '../../runner/restore/stream-split';
import type { TocEntry } from '../../runner/pg/toc';

function entry(id: number, type: string, label: string, deps: number[] = []): TocEntry {
  return { id, type, label, schema: null, name: null, deps };
}

// An archive's TOC in archive order (as pg_dump sorts it): one big table with a primary key and two more
// indexes, a child table with a foreign key to it, a partitioned table, a materialized view, a policy.
const TOC: TocEntry[] = [
  entry(1, 'SCHEMA', '- sales postgres'),
  entry(2, 'FUNCTION', 'sales touch() postgres', [1]),
  entry(10, 'TABLE', 'sales big postgres', [1]),
  entry(11, 'TABLE', 'sales child postgres', [1]),
  entry(12, 'TABLE', 'sales small postgres', [1]),
  entry(13, 'TABLE', 'public parted postgres'),
  entry(14, 'TABLE', 'public parted_1 postgres'),
  entry(15, 'MATERIALIZED VIEW', 'sales mv postgres', [10]),
  entry(16, 'ACL', 'sales TABLE big postgres', [10]),
  entry(20, 'TABLE DATA', 'sales big postgres', [10]),
  entry(21, 'TABLE DATA', 'sales child postgres', [11]),
  entry(22, 'TABLE DATA', 'sales small postgres', [12]),
  entry(23, 'TABLE DATA', 'public parted_1 postgres', [14]),
  entry(24, 'SEQUENCE SET', 'sales big_id_seq postgres'),
  entry(25, 'MATERIALIZED VIEW DATA', 'sales mv postgres', [15]),
  entry(30, 'CONSTRAINT', 'sales big big_pkey postgres', [10]),
  entry(31, 'INDEX', 'sales big_a postgres', [10]),
  entry(32, 'INDEX', 'sales big_b postgres', [10, 2]),
  entry(33, 'CONSTRAINT', 'sales child child_pkey postgres', [11]),
  entry(34, 'INDEX', 'sales small_idx postgres', [12]),
  entry(35, 'INDEX', 'public parted_idx postgres', [13]),
  entry(36, 'INDEX', 'public parted_1_idx postgres', [14, 35]),
  entry(37, 'INDEX ATTACH', 'public parted_1_idx postgres', [35, 36]),
  entry(38, 'INDEX', 'sales mv_idx postgres', [15]),
  entry(39, 'TRIGGER', 'sales big big_touch postgres', [10, 2]),
  entry(40, 'FK CONSTRAINT', 'sales child child_big_fk postgres', [11, 10, 30]),
  entry(41, 'COMMENT', 'sales INDEX small_idx postgres', [34]),
  entry(42, 'COMMENT', 'sales CONSTRAINT child_big_fk postgres', [40]),
  entry(43, 'POLICY', 'sales big p postgres', [10]),
  entry(44, 'COMMENT', 'sales POLICY p postgres', [43]),
  entry(45, 'INDEX', 'sales mv_after_data postgres', [25]),
];
const SECTIONS = new Map<number, Section>(TOC.map((e) => [e.id, e.id < 20 ? 'pre-data' : e.id < 30 ? 'data' : 'post-data']));
// What stream-split.ts leaves after the pre-data step and the streams: grants, the data section's rest, post-data.
const REST = TOC.filter((e) => e.id === 16 || e.id === 24 || e.id === 25 || e.id >= 30).map((e) => e.id);
// big loads in stream 0; child, small and parted_1 in stream 1.
const DATA_STREAMS = new Map([[20, 0], [21, 1], [22, 1], [23, 1]]);
const WEIGHTS = new Map([[10, 1000], [11, 100], [12, 10], [14, 5]]);
const plan = () => planPostData(TOC, SECTIONS, REST, DATA_STREAMS, WEIGHTS);

test('plan: indexes, keys, foreign keys, triggers and their comments are jobs; what needs the last step stays there', () => {
  const { jobs, rest } = plan();
  assert.deepEqual(jobs.map((j) => j.id), [30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42]);
  // Grants, sequence values, a materialized view's data, a policy and its comment, and an index that needs the
  // view's data: pg_restore restores them after every job.
  assert.deepEqual(rest, [16, 24, 25, 43, 44, 45]);
  const byId = new Map(jobs.map((j) => [j.id, j]));
  assert.deepEqual(byId.get(40)!.after, [30], 'the foreign key waits for the primary key it references');
  assert.deepEqual(byId.get(40)!.streams, [0, 1], 'and for both its tables to be loaded');
  assert.deepEqual(byId.get(40)!.locks, [11, 10]);
  assert.deepEqual(byId.get(31)!.locks, [], 'CREATE INDEX locks nothing exclusively');
  assert.deepEqual(byId.get(30)!.locks, [10], 'ALTER TABLE ADD PRIMARY KEY does');
  assert.deepEqual(byId.get(35)!.streams, [], 'a partitioned parent has no data to wait for');
  assert.deepEqual(byId.get(37)!.after, [35, 36]);
  assert.deepEqual(byId.get(41)!.after, [34], 'a comment follows its index');
  assert.equal(byId.get(31)!.weight, 1000);
});

test('lock rule: indexes of one table run side by side; a key or trigger runs alone on its table', () => {
  const byId = new Map(plan().jobs.map((j) => [j.id, j]));
  assert.equal(lockConflict(byId.get(31)!, byId.get(32)!), false);
  assert.equal(lockConflict(byId.get(30)!, byId.get(31)!), true);
  assert.equal(lockConflict(byId.get(31)!, byId.get(39)!), true);
  assert.equal(lockConflict(byId.get(40)!, byId.get(33)!), true, "a foreign key locks its own table too");
  assert.equal(lockConflict(byId.get(34)!, byId.get(30)!), false);
});

/** Runs the queue to the end with `sessions` at once, finishing running jobs in the order `pick` chooses. */
function simulate(jobs: PostDataJob[], sessions: number, pick: (running: PostDataJob[]) => number, loadOrder: number[]): { starts: number[]; violations: string[] } {
  const q = new PostDataQueue(jobs);
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const done = new Set<number>();
  const loaded = new Set<number>();
  const running: PostDataJob[] = [];
  const starts: number[] = [];
  const violations: string[] = [];
  const fill = (): void => {
    for (let j = running.length < sessions ? q.next() : null; j; j = running.length < sessions ? q.next() : null) {
      for (const a of j.after) if (!done.has(a)) violations.push(`${j.id} started before ${a} finished`);
      for (const s of j.streams) if (!loaded.has(s)) violations.push(`${j.id} started before stream ${s} loaded`);
      for (const r of running) if (lockConflict(j, r)) violations.push(`${j.id} started beside ${r.id}`);
      running.push(j);
      starts.push(j.id);
    }
  };
  const loads = [...loadOrder];
  fill();
  while (!q.finished) {
    if (loads.length && (running.length === 0 || loads.length % 2 === 0)) {
      const s = loads.shift()!;
      loaded.add(s);
      q.loaded(s);
    } else {
      assert.ok(running.length > 0, `stuck with ${jobs.length - done.size} jobs left`);
      const [j] = running.splice(pick(running), 1);
      done.add(j!.id);
      q.done(j!.id);
    }
    fill();
  }
  assert.equal(done.size, byId.size);
  return { starts, violations };
}

test('queue: every job runs once, after what it needs, never beside a job that locks its table', () => {
  const { jobs } = plan();
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (const sessions of [1, 2, 3, 8]) {
    for (let round = 0; round < 50; round++) {
      const { starts, violations } = simulate(jobs, sessions, (r) => random(r.length), round % 2 ? [1, 0] : [0, 1]);
      assert.deepEqual(violations, [], `sessions=${sessions} round=${round}`);
      assert.deepEqual([...starts].sort((a, b) => a - b), jobs.map((j) => j.id));
      // No foreign key before the primary key it references.
      assert.ok(starts.indexOf(40) > starts.indexOf(30));
    }
  }
});

test('queue: the largest table goes first, and its indexes build side by side while its key waits', () => {
  const { jobs } = plan();
  const q = new PostDataQueue(jobs);
  q.loaded(0);
  // Only big's jobs (and the partitioned parent's index, which needs no data) are ready; big's are heavier.
  const first = q.next()!;
  assert.equal(first.id, 30, 'the primary key first (archive order among equals)');
  assert.equal(q.next()!.id, 35, "big's indexes wait for its key's exclusive lock; the next job is another table's");
  q.done(first.id);
  assert.deepEqual([q.next()!.id, q.next()!.id], [31, 32], "then big's two indexes together");
  assert.equal(q.next()!.id, 38, 'its trigger waits for them: the next job is on another relation');
  assert.equal(q.next(), null);
});

test('script: each entry as one piece with the settings in force for it; session settings apart; psql commands dropped', () => {
  const script = [
    '--',
    '-- PostgreSQL database dump',
    '--',
    '',
    '\\restrict abc',
    '',
    "SET statement_timeout = 0;",
    "SET client_encoding = 'UTF8';",
    "SELECT pg_catalog.set_config('search_path', '', false);",
    'SET check_function_bodies = false;',
    '',
    "SET default_tablespace = '';",
    '',
    '--',
    '-- TOC entry 30 (class 2606 OID 16391)',
    '-- Name: big big_pkey; Type: CONSTRAINT; Schema: sales; Owner: postgres',
    '--',
    '',
    'ALTER TABLE ONLY sales.big',
    '    ADD CONSTRAINT big_pkey PRIMARY KEY (id);',
    '',
    '',
    'SET default_tablespace = fast;',
    '',
    '--',
    '-- TOC entry 31 (class 1259 OID 16394)',
    '--',
    '',
    'CREATE INDEX big_a ON sales.big USING btree (a);',
    '',
    '',
    '--',
    '-- TOC entry 41 (class 0 OID 0)',
    '--',
    '',
    "COMMENT ON INDEX sales.big_a IS 'two',",
    "SET default_tablespace = 'lines';",
    '',
    '',
    '\\unrestrict abc',
  ].join('\n');
  const parsed = parsePostDataScript(script)!;
  assert.equal(parsed.session, 'SET statement_timeout = 0;\nSET check_function_bodies = false;\n');
  const piece = (id: number): string => parsed.pieces.get(id)!.split('\n').filter((l) => l && !l.startsWith('--')).join('\n');
  assert.equal(piece(30), "SELECT pg_catalog.set_config('search_path', '', false);\nSET default_tablespace = '';\nALTER TABLE ONLY sales.big\n    ADD CONSTRAINT big_pkey PRIMARY KEY (id);");
  assert.equal(piece(31), "SELECT pg_catalog.set_config('search_path', '', false);\nSET default_tablespace = fast;\nCREATE INDEX big_a ON sales.big USING btree (a);");
  // A setting-shaped line inside an entry (a comment's second line) is the entry's, not a setting.
  assert.match(parsed.pieces.get(41)!, /SET default_tablespace = fast;\n[\s\S]*COMMENT ON INDEX sales.big_a IS 'two',\nSET default_tablespace = 'lines';/);
  assert.doesNotMatch([...parsed.pieces.values()].join(''), /restrict/);
});

test('script: another encoding with bytes beyond ASCII is refused (its jobs go to pg_restore)', () => {
  const head = "SET client_encoding = 'LATIN1';\n\n--\n-- TOC entry 5 (class 1 OID 2)\n--\n\n";
  assert.equal(parsePostDataScript(`${head}CREATE INDEX "caf\u00e9" ON t (a);\n`), null);
  assert.ok(parsePostDataScript(`${head}CREATE INDEX cafe ON t (a);\n`));
});

test('script read in chunks: cut anywhere, even inside a character, it parses as the whole text does', () => {
  const text = [
    "SET client_encoding = 'UTF8';",
    'SET statement_timeout = 0;',
    '',
    '--',
    '-- TOC entry 7 (class 1259 OID 9)',
    '--',
    '',
    'CREATE INDEX "caf\u00e9_\u{1f600}" ON t USING btree (a);',
    '',
    '',
    '--',
    '-- TOC entry 8 (class 2606 OID 10)',
    '--',
    '',
    `ALTER TABLE ONLY t ADD CONSTRAINT k CHECK (b <> '${'x'.repeat(300)}');`,
    '',
  ].join('\n');
  const whole = parsePostDataScript(text)!;
  const bytes = Buffer.from(text);
  for (const size of [1, 2, 3, 7, 64, bytes.length]) {
    const lines: string[] = [];
    const feed = lineFeed((l) => lines.push(l));
    for (let at = 0; at < bytes.length; at += size) feed.write(bytes.subarray(at, at + size));
    feed.end();
    assert.deepEqual(lines, text.split('\n'), `chunks of ${size} bytes`);
    const parser = new PostDataScriptParser();
    for (const l of lines) parser.line(l);
    assert.deepEqual(parser.finish(), whole);
  }
  assert.match(whole.pieces.get(7)!, /caf\u00e9_\u{1f600}/u);
});

test('keys of large tables: the unique index builds as a job of its own, then the constraint takes it', () => {
  const job = (id: number, what: string, weight: number, streams = [0]): PostDataJob => ({ id, what, after: [], streams, tables: [10], locks: [10], weight });
  const piece = (statement: string): string => `SET default_tablespace = fast;\n--\n-- TOC entry 30 (class 2606 OID 1)\n--\n\n${statement}\n\n`;
  const pieces = new Map([
    [30, piece('ALTER TABLE ONLY sales.big\n    ADD CONSTRAINT big_pkey PRIMARY KEY (id, "Odd ""col""") INCLUDE (note) WITH (fillfactor=\'80\') DEFERRABLE INITIALLY DEFERRED;')],
    [31, piece('ALTER TABLE ONLY sales.big\n    ADD CONSTRAINT big_sku UNIQUE NULLS NOT DISTINCT (sku);')],
    [32, piece('ALTER TABLE ONLY sales.big\n    ADD CONSTRAINT big_excl EXCLUDE USING gist (r WITH &&);')],
    [33, piece('ALTER TABLE ONLY sales.small\n    ADD CONSTRAINT small_pkey PRIMARY KEY (id);')],
    [34, piece('ALTER TABLE ONLY sales.parted\n    ADD CONSTRAINT parted_pkey PRIMARY KEY (id);')],
  ]);
  const big = 64 << 20;
  const jobs = [job(30, 'CONSTRAINT #30', big), job(31, 'CONSTRAINT #31', big), job(32, 'CONSTRAINT #32', big), job(33, 'CONSTRAINT #33', 1000), job(34, 'CONSTRAINT #34', big, [])];
  const out = splitKeyBuilds(jobs, pieces);
  assert.deepEqual(out.jobs.map((j) => [j.id, j.after, j.locks]), [
    [-30, [], []], [30, [-30], [10]], [-31, [], []], [31, [-31], [10]],
    [32, [], [10]], // an exclusion constraint is no plain key
    [33, [], [10]], // a small table: nothing to gain
    [34, [], [10]], // no data of its own (a partitioned parent cannot take USING INDEX)
  ]);
  assert.equal(out.pieces.get(-30), 'SET default_tablespace = fast;\nCREATE UNIQUE INDEX big_pkey ON sales.big USING btree (id, "Odd ""col""") INCLUDE (note) WITH (fillfactor=\'80\');\n');
  assert.equal(out.pieces.get(30), 'SET default_tablespace = fast;\nALTER TABLE ONLY sales.big\n    ADD CONSTRAINT big_pkey PRIMARY KEY USING INDEX big_pkey DEFERRABLE INITIALLY DEFERRED;\n');
  assert.equal(out.pieces.get(-31), 'SET default_tablespace = fast;\nCREATE UNIQUE INDEX big_sku ON sales.big USING btree (sku) NULLS NOT DISTINCT;\n');
  assert.equal(out.pieces.get(32), pieces.get(32));
});

test('batches: jobs on small tables go together, never two that conflict, never one before what it needs', () => {
  const { jobs } = plan();
  const q = new PostDataQueue(jobs);
  q.loaded(0);
  q.loaded(1);
  // big's jobs weigh 1000 bytes: with a small-table limit of 2000 they batch too.
  const batch = q.nextBatch(16, 2000);
  const ids = batch.map((j) => j.id);
  for (const a of batch) for (const b of batch) if (a !== b) assert.ok(!lockConflict(a, b), `${a.id} beside ${b.id}`);
  assert.ok(!ids.includes(40), 'the foreign key waits for the primary key, which is at most in this batch');
  assert.ok(!ids.includes(41), "the comment waits for its index");
  assert.ok(batch.length > 1);
  // A job on a large table goes alone.
  const q2 = new PostDataQueue(jobs);
  q2.loaded(0);
  assert.equal(q2.nextBatch(16, 500).length, 1);
});

test('plan: a table dumped in pieces loaded by several streams: its jobs wait for every one of them', () => {
  // big's rows in two pieces (20, 46) and the empty entry after them (47) that depends on both.
  const toc = [...TOC, entry(46, 'TABLE DATA', 'sales big postgres', [10]), entry(47, 'TABLE DATA', 'sales big postgres', [10, 20, 46])];
  const sections = new Map<number, Section>([...SECTIONS, [46, 'data'], [47, 'data']]);
  const streams = new Map([...DATA_STREAMS, [46, 1], [47, 1]]);
  const byId = new Map(planPostData(toc, sections, REST, streams, WEIGHTS).jobs.map((j) => [j.id, j]));
  assert.deepEqual(byId.get(30)!.streams, [0, 1], "big's primary key waits for both streams that load its pieces");
  assert.deepEqual(byId.get(31)!.streams, [0, 1]);
  assert.deepEqual(byId.get(34)!.streams, [1], "small's index only for its own");
});
