/**
 * Runs the post-data jobs (post-data-jobs.ts) with their SQL (post-data-script.ts) on sessions of the restore's
 * own, as pg_restore -j's workers run them: a job starts as soon as the queue offers one and a session is free
 * (the caller says how many are: the restore's --jobs minus the streams still loading), each piece in one simple
 * query, as pg_restore sends an entry. Jobs on small tables go up to BATCH_JOBS in one query: thousands of small
 * tables are thousands of round trips and commits otherwise (a commit waits for its WAL flush on a real disk),
 * (2,000 small tables' 4,400 jobs: 4.2 s one by one, 0.9 s batched, measured once under different load).
 * Sessions are opened when first needed and reused.
 *
 * The first failing job stops the rest; wait() then resolves with it. stop() (another part of the restore
 * failed, or the run was interrupted) closes the sessions at once: a build still running on the server ends with
 * the database, which a failed restore drops WITH (FORCE).
 */
import type { Client } from 'pg';
import type { PostDataJob, PostDataQueue } from './post-data-jobs';
import type { PostDataScript } from './post-data-script';

/** Jobs on tables smaller than this go to the server up to BATCH_JOBS in one query, one transaction. */
const SMALL_TABLE_BYTES = 1 << 20;
const BATCH_JOBS = 16;

export type PostDataOutcome = { ok: true } | { ok: false; job: PostDataJob | null; error: unknown } | { ok: false; stopped: true };

export class PostDataRun {
  private readonly idle: Client[] = [];
  private readonly all: Client[] = [];
  private outcome: PostDataOutcome | null = null;
  /** Sessions running a batch now. */
  private busy = 0;
  private settle!: (o: PostDataOutcome) => void;
  private readonly settled = new Promise<PostDataOutcome>((resolve) => (this.settle = resolve));

  constructor(
    private readonly queue: PostDataQueue,
    private readonly script: PostDataScript,
    private readonly connect: () => Promise<Client>,
    /** Sessions the jobs may use now, running ones included. */
    private readonly sessions: () => number,
    /** Hears each job that finished, and how long it ran. */
    private readonly onDone: (job: PostDataJob, ms: number) => void = () => undefined,
  ) {}

  /** Starts whatever may start now; call it whenever a stream has loaded or a session came free. */
  kick(): void {
    if (this.outcome) return;
    if (this.queue.finished) {
      this.end({ ok: true });
      return;
    }
    while (this.busy < this.sessions()) {
      const batch = this.queue.nextBatch(BATCH_JOBS, SMALL_TABLE_BYTES);
      if (!batch.length) break;
      void this.run(batch);
    }
  }

  /** How the jobs ended: all done, the first failure, or stopped. */
  wait(): Promise<PostDataOutcome> {
    return this.settled;
  }

  stop(): void {
    this.end({ ok: false, stopped: true });
  }

  /** Closes the sessions (after wait()). */
  async close(): Promise<void> {
    await Promise.all(this.all.map((c) => c.end().catch(() => undefined)));
  }

  private async run(batch: PostDataJob[]): Promise<void> {
    this.busy++;
    let client: Client | undefined;
    try {
      client = this.idle.pop() ?? (await this.open());
      const started = Date.now();
      await client.query(batch.map((job) => this.script.pieces.get(job.id)!).join('\n'));
      this.idle.push(client);
      this.busy--;
      if (this.outcome) return;
      for (const job of batch) {
        this.onDone(job, Date.now() - started);
        this.queue.done(job.id);
      }
      this.kick();
    } catch (e) {
      this.busy--;
      // A batch fails as a whole (one transaction): its first job is named, the others listed.
      const job = batch.length === 1 ? batch[0]! : { ...batch[0]!, what: `one of ${batch.map((j) => j.what).join(', ')}` };
      this.end({ ok: false, job, error: e });
    }
  }

  private async open(): Promise<Client> {
    const c = await this.connect();
    this.all.push(c);
    // Stopped while connecting: this session must not outlive the others (its query below then fails, unheard).
    if (this.outcome && !this.outcome.ok) void c.end().catch(() => undefined);
    await c.query(this.script.session);
    return c;
  }

  private end(o: PostDataOutcome): void {
    if (this.outcome) return;
    this.outcome = o;
    if (!o.ok) {
      // Nothing more is sent; sessions still running a statement are closed under it.
      for (const c of this.all) void c.end().catch(() => undefined);
    }
    this.settle(o);
  }
}
