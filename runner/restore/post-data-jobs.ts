/**
 * The post-data work of a streamed restore (restore/stream.ts) as a graph of jobs, scheduled the way pg_restore -j
 * schedules it: each index, key, foreign key, trigger (and the comments on them) is a job of its own, started as
 * soon as what it needs is in, on whichever session is free. Pure; the SQL and the sessions are post-data-run.ts's.
 *
 * Why not a pg_restore per stream over its tables' indexes (as before): a stream's builds could only start as a
 * whole, with as many workers as were free at that moment, so a big table's three indexes could run one after
 * another on one session while the other stayed idle (1.3x pg_restore -j2 on a database dominated by one table).
 * And why not a pg_restore per job: thousands of small tables are thousands of processes, each reading the TOC.
 *
 * - planPostData(entries, sections, rest, dataStreams, tableWeights): which entries of `rest` become jobs, and
 *   what each waits for. A job's dependencies must each be pre-data (restored first), a table (and, when it has
 *   data, the stream that loads it) or another job; whatever depends on something else (a materialized view's
 *   data, a policy, a publication) stays in `rest` with everything that depends on it, for the last step.
 * - PostDataQueue: the ready jobs, largest tables first, with pg_restore's lock rule: a job that takes an
 *   exclusive lock on a table (anything but CREATE INDEX: ALTER TABLE ADD CONSTRAINT, CREATE TRIGGER, ...)
 *   never runs beside another job on that table; indexes of one table run side by side.
 */
import { DATA_BLOCK_TYPES, describeEntry, type TocEntry } from '../pg/toc';
import type { Section } from './stream-split';

/** Entries that run as jobs of their own. */
const JOB_TYPES = new Set(['INDEX', 'CONSTRAINT', 'CHECK CONSTRAINT', 'FK CONSTRAINT', 'TRIGGER', 'INDEX ATTACH']);

/** Entries on one object that run as a job after it (a comment on an index). */
const NOTE_TYPES = new Set(['COMMENT', 'SECURITY LABEL']);

export interface PostDataJob {
  /** The TOC entry. */
  id: number;
  /** "INDEX public.items_price", for messages. */
  what: string;
  /** Jobs that must have finished first (the primary key a foreign key references, the index a comment is on). */
  after: number[];
  /** Data streams that must have loaded (those of the tables it is on). */
  streams: number[];
  /** Tables (TOC ids) it is on. */
  tables: number[];
  /** Tables it locks exclusively: all of `tables`, but for CREATE INDEX, which takes a share lock. */
  locks: number[];
  /** The bytes of its tables: larger first, so the longest builds start first. */
  weight: number;
}

export interface PostDataPlan {
  /** The jobs, in the archive's order. */
  jobs: PostDataJob[];
  /** `rest` without the jobs, in its order. */
  rest: number[];
}

/**
 * Pure. `rest`: the entries left after the pre-data step and the streams (stream-split.ts); `dataStreams`: the
 * stream loading each data entry; `tableWeights`: each table's (TOC id) bytes.
 */
export function planPostData(
  entries: readonly TocEntry[],
  sections: ReadonlyMap<number, Section>,
  rest: readonly number[],
  dataStreams: ReadonlyMap<number, number>,
  tableWeights: ReadonlyMap<number, number> = new Map(),
): PostDataPlan {
  const byId = new Map(entries.map((e) => [e.id, e]));
  // The streams that load each table, through its data entries (several for a table dumped in pieces).
  const tableStreams = new Map<number, Set<number>>();
  for (const [id, stream] of dataStreams) {
    const e = byId.get(id);
    if (!e || !DATA_BLOCK_TYPES.has(e.type)) continue;
    for (const d of e.deps) {
      if (byId.get(d)?.type !== 'TABLE') continue;
      if (!tableStreams.has(d)) tableStreams.set(d, new Set());
      tableStreams.get(d)!.add(stream);
    }
  }
  const candidate = (e: TocEntry): boolean =>
    sections.get(e.id) === 'post-data' && (JOB_TYPES.has(e.type) || (NOTE_TYPES.has(e.type) && e.deps.length === 1 && JOB_TYPES.has(byId.get(e.deps[0]!)?.type ?? '')));
  const inRest = new Set(rest);
  const jobIds = new Set(rest.filter((id) => byId.has(id) && candidate(byId.get(id)!)));
  // Drop jobs that need something restored only in the last step, to a fixed point (a job may need a dropped one).
  for (let changed = true; changed; ) {
    changed = false;
    for (const id of jobIds) {
      const ok = byId.get(id)!.deps.every((d) => {
        if (jobIds.has(d)) return true;
        const dep = byId.get(d);
        if (!dep) return true; // not in the archive's list: nothing restores it, as pg_restore treats it
        if (dep.type === 'TABLE' || DATA_BLOCK_TYPES.has(dep.type)) return true;
        return sections.get(d) === 'pre-data' && !inRest.has(d);
      });
      if (!ok) {
        jobIds.delete(id);
        changed = true;
      }
    }
  }
  const jobs: PostDataJob[] = [];
  for (const id of rest) {
    if (!jobIds.has(id)) continue;
    const e = byId.get(id)!;
    const tables = e.deps.filter((d) => byId.get(d)?.type === 'TABLE');
    const streams = new Set<number>();
    for (const d of e.deps) {
      if (byId.get(d)?.type === 'TABLE') for (const s of tableStreams.get(d) ?? []) streams.add(s);
      else if (dataStreams.has(d)) streams.add(dataStreams.get(d)!);
    }
    jobs.push({
      id,
      what: describeEntry(e),
      after: e.deps.filter((d) => jobIds.has(d)),
      streams: [...streams].sort((a, b) => a - b),
      tables,
      locks: e.type === 'INDEX' ? [] : tables,
      weight: tables.reduce((sum, t) => sum + (tableWeights.get(t) ?? 0), 0),
    });
  }
  return { jobs, rest: rest.filter((id) => !jobIds.has(id)) };
}

/** Whether two jobs may not run at once: one locks a table the other is on (pg_restore's has_lock_conflicts). */
export function lockConflict(a: PostDataJob, b: PostDataJob): boolean {
  return a.locks.some((t) => b.tables.includes(t)) || b.locks.some((t) => a.tables.includes(t));
}

/**
 * Which job to start next. loaded(stream) when a stream's data is in, next() for a job that may start now (or
 * null), done(id) when it finished. Jobs only wait for jobs, streams and locks, so while any is pending and
 * none runs, next() finds one as soon as every stream has loaded.
 */
export class PostDataQueue {
  private readonly jobs = new Map<number, PostDataJob>();
  private readonly waiting = new Map<number, number>();
  private readonly dependents = new Map<number, number[]>();
  private readonly streamJobs = new Map<number, number[]>();
  private readonly order = new Map<number, number>();
  /** Ready jobs, heaviest first (archive order among equals). */
  private readonly ready: PostDataJob[] = [];
  private readonly running = new Map<number, PostDataJob>();
  private readonly loadedStreams = new Set<number>();
  private left: number;

  constructor(jobs: readonly PostDataJob[]) {
    this.left = jobs.length;
    jobs.forEach((j, i) => {
      this.jobs.set(j.id, j);
      this.order.set(j.id, i);
    });
    for (const j of jobs) {
      const after = j.after.filter((d) => this.jobs.has(d));
      this.waiting.set(j.id, after.length + j.streams.length);
      for (const d of after) this.dependents.set(d, [...(this.dependents.get(d) ?? []), j.id]);
      for (const s of j.streams) this.streamJobs.set(s, [...(this.streamJobs.get(s) ?? []), j.id]);
    }
    for (const j of jobs) if (this.waiting.get(j.id) === 0) this.makeReady(j);
  }

  /** Every job has finished. */
  get finished(): boolean {
    return this.left === 0;
  }

  /** Jobs running now. */
  get active(): number {
    return this.running.size;
  }

  loaded(stream: number): void {
    if (this.loadedStreams.has(stream)) return;
    this.loadedStreams.add(stream);
    for (const id of this.streamJobs.get(stream) ?? []) this.release(id);
  }

  /** The heaviest ready job that conflicts with none running, marked running; null when none may start now. */
  next(): PostDataJob | null {
    const running = [...this.running.values()];
    const i = this.ready.findIndex((j) => !running.some((r) => lockConflict(j, r)));
    if (i < 0) return null;
    const [job] = this.ready.splice(i, 1);
    this.running.set(job!.id, job!);
    return job!;
  }

  /**
   * Jobs one session runs in one round trip: the next job, and when it is on small tables, more ready small jobs
   * (up to `max`) that conflict with nothing running or taken. One that needs another of them is not ready yet,
   * so the order holds.
   */
  nextBatch(max: number, smallBytes: number): PostDataJob[] {
    const first = this.next();
    if (!first) return [];
    const batch = [first];
    if (first.weight >= smallBytes) return batch;
    while (batch.length < max) {
      const i = this.ready.findIndex((j) => j.weight < smallBytes && ![...this.running.values()].some((r) => lockConflict(j, r)));
      if (i < 0) break;
      const [job] = this.ready.splice(i, 1);
      this.running.set(job!.id, job!);
      batch.push(job!);
    }
    return batch;
  }

  done(id: number): void {
    if (!this.running.delete(id)) throw new Error(`post-data job ${id} is not running`);
    this.left--;
    for (const d of this.dependents.get(id) ?? []) this.release(d);
  }

  private release(id: number): void {
    const n = this.waiting.get(id)! - 1;
    this.waiting.set(id, n);
    if (n === 0) this.makeReady(this.jobs.get(id)!);
  }

  private makeReady(job: PostDataJob): void {
    const before = (a: PostDataJob, b: PostDataJob): boolean => a.weight > b.weight || (a.weight === b.weight && this.order.get(a.id)! < this.order.get(b.id)!);
    let lo = 0;
    let hi = this.ready.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(this.ready[mid]!, job)) lo = mid + 1;
      else hi = mid;
    }
    this.ready.splice(lo, 0, job);
  }
}
