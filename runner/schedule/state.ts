/**
 * What the scheduler remembers across restarts, in one small JSON file: per job, when it last started and how
 * its runs have been going. The start times find a run missed while the daemon was down; the failure count
 * lets a recovery be told once even after a restart. Written whole to a temp name and renamed, so a crash
 * leaves the old file or the new one.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const jobStateSchema = z.object({
  lastStartedAt: z.string().optional(),
  lastFinishedAt: z.string().optional(),
  lastExitCode: z.number().optional(),
  consecutiveFailures: z.number().default(0),
  /** When a notification about this job's failures last went out (for notify.repeat). */
  lastNotifiedAt: z.string().optional(),
});
const stateSchema = z.object({ version: z.literal(1), jobs: z.record(z.string(), jobStateSchema) });

export type JobState = z.infer<typeof jobStateSchema>;

export class ScheduleState {
  private readonly jobs: Record<string, JobState>;

  private constructor(
    readonly file: string,
    jobs: Record<string, JobState>,
  ) {
    this.jobs = jobs;
  }

  /** The file's state; empty when there is none yet. A file that does not parse is an error, not a fresh start. */
  static load(file: string): ScheduleState {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new ScheduleState(file, {});
      throw e;
    }
    const parsed = stateSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`${file} is not a schedule state file (${parsed.error.issues[0]?.message ?? 'invalid'})`);
    return new ScheduleState(file, parsed.data.jobs);
  }

  get(id: string): JobState {
    return this.jobs[id] ?? { consecutiveFailures: 0 };
  }

  update(id: string, change: Partial<JobState>): JobState {
    const next = { ...this.get(id), ...change };
    this.jobs[id] = next;
    this.save();
    return next;
  }

  private save(): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, jobs: this.jobs }, null, 2) + '\n');
    renameSync(tmp, this.file);
  }
}
