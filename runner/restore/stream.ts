/**
 * A whole restore without a temp file: the archive's data loads in N parallel streams while it downloads.
 *
 *   head frame (or first bytes) of the payload ─▶ zstd -d ─▶ head file (the archive's header and TOC, no data)
 *   head file ─▶ pg_restore --use-list=<pre-data but grants>
 *   N times: head + its frames by range (or all the payload) ─▶ sha256 ─▶ [age decrypt] ─▶ zstd -d
 *            ─▶ pg_restore --use-list=<its tables' data>
 *   meanwhile, on the sessions the loading streams leave free: each index, key, foreign key, trigger as a job of
 *   its own, once its tables are loaded and the jobs it needs are done (post-data-jobs.ts), its SQL rendered
 *   by pg_restore from the head file (post-data-script.ts) and run on a session of ours (post-data-run.ts)
 *   checksums of every stream checked ─▶ head file ─▶ pg_restore -j N --use-list=<the rest: sequence values,
 *   grants, materialized views' data, ...> ─▶ row counts against the manifest
 *
 * Why: pg_restore -j needs a seekable file, so the other path (fetchArchive, then pg_restore -j) first writes
 * the whole decompressed archive to disk, about 1 s per GiB here and temp space as large as the dump, before
 * pg_restore starts. Here download, decompression and COPY overlap.
 *
 * Backups store the payload in zstd frames cut where data blocks start (framed-compress.ts), indexed in the
 * manifest. The frames are the units dealt to the streams (heaviest first, by the archive bytes they hold); a
 * stream reads the head frame (from memory) then its own frames by ranged reads, and pg_restore finds in them
 * exactly the data blocks of its list, in the archive's order. So the payload is read once in all (the head
 * too: kept in memory) and decompressed once, plus the small head once per stream, and each frame's sha256 is
 * checked as it ends (payload/frames.ts).
 *
 * An age payload's frames are decrypted from the chunk holding their first byte (age-range.ts). A stream hands
 * each chunk to zstd's stdin, and the next only once the pipe has taken it, with no queue of its own in between
 * (pumpFrames says why: node's RSS). In a folder (Storage.open), a plain payload's frames are read into two
 * buffers per stream, reused; from a bucket, the SDK's stream still reads ahead into its own small buffer.
 *
 * Without usable frames (a backup from before them, an archive the backup could not scan, an age header too long),
 * a pg_restore reading stdin goes through the whole archive and skips the data of entries outside its list, so
 * each stream reads the whole payload: N downloads and N decompressions. One download fanned out to N streams
 * would not do: the streams would advance in lockstep, each waiting while another loads a table it skips.
 *
 * A table's indexes and keys are built once its stream has loaded, while the others still load, each on its own
 * as pg_restore -j schedules them (inside the stream's own pg_restore they would run one at a time, and a
 * pg_restore -j per stream could only take the sessions free when it started).
 *
 * The checksum of the stored bytes (or of a frame) is known only once a stream has read them, after its data
 * went to pg_restore, not before anything is restored. So restoreBackup (and the drill) take this path only
 * into a database they create, and drop it on any failure: a mismatch fails the restore and leaves nothing. A
 * checksum guards against corruption; it cannot guard against whoever can rewrite the payload, who can rewrite
 * the manifest too.
 * Encrypted payloads are authenticated chunk by chunk before a byte goes on.
 *
 * - prepareStreamRestore(...) → StreamRestore | null: reads the TOC from the payload's head (stream-head.ts);
 *   null when the head frame fails its checksum, or without frames the TOC is not within HEAD_MAX (a schema with
 *   a million objects), or the head cannot be read: the caller falls back to the temp-file path, which reports a
 *   broken payload properly.
 * - Which step restores which entry is planned in stream-split.ts and post-data-jobs.ts; the verdict on the
 *   streams (which failed first and why, the checksums of what each read) is stream-verdict.ts's.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isLifeboatError, runtimeError } from '../errors';
import { connectPg, pgToolEnv, type ConnInfo } from '../pg/connection';
import type { RowCountComparison } from '../pg/tables';
import { useListText } from '../pg/toc';
import { childStdin, childStdinSink } from '../pipeline/child-stdin';
import { HashingStream } from '../pipeline/hash';
import { createProgress } from '../pipeline/progress';
import { childSucceeded, defaultSpawner, watchChild, type ChildResult } from '../pipeline/spawn';
import { openDecryptor } from '../payload/fetch';
import { compareWithManifest, findPgRestore, pgRestoreFailure, pgRestoreWarning, restoreOptionArgs, type RestoreDeps, type RestorePlan } from './pg-restore';
import { frameWeights, framesMatchToc, pumpFrames, type FrameFetch } from '../payload/frames';
import { entryWeights, splitStreams } from './stream-split';
import { planPostData, PostDataQueue, type PostDataJob } from './post-data-jobs';
import { renderPostDataScript, type PostDataScript } from './post-data-script';
import { PostDataRun } from './post-data-run';
import { splitKeyBuilds } from './post-data-keys';
import { readStreamHead, type HeadInputs } from './stream-head';
import { makeTempDir } from '../pipeline/temp-dir';
import { findZstd } from '../payload/zstd';
import { checkStoredBytes, streamFailure, streamSucceeded, type StreamOutcome } from './stream-verdict';

export interface StreamRestore {
  /** How many data streams (at most the plan's jobs). */
  streams: number;
  /** Each stream fetches only its own frames of the payload (else each reads all of it). */
  byFrames: boolean;
  /** pre-data, the data streams, post-data, then the row counts; the caller has made the database. */
  run(target: ConnInfo, plan: RestorePlan, flag: string): Promise<{ comparison: RowCountComparison[] | null; ok: boolean }>;
  cleanup(): Promise<void>;
}

interface StreamInputs extends HeadInputs {
  jobs: number;
}

/** Reads the archive's TOC from the head of the payload and plans the streams; null to use the temp-file path. */
export async function prepareStreamRestore(inputs: StreamInputs, deps: RestoreDeps): Promise<StreamRestore | null> {
  const { backup, storage } = inputs;
  const { ctx } = deps;
  const spawner = deps.spawner ?? defaultSpawner;
  const objectUrl = `${storage.url}/${backup.payloadKey}`;
  const [zstd, pgRestore] = await Promise.all([findZstd(), findPgRestore(backup, ctx.env)]);
  // A wrong key fails here, before anything else, with the same error as on the temp-file path.
  await openDecryptor(backup, inputs.identityText, objectUrl);
  const { dir, cleanup } = await makeTempDir(ctx.env, 'lifeboat-restore-');
  const headFile = path.join(dir, 'head.pgc');
  try {
    const head = await readStreamHead(inputs, objectUrl, headFile, { zstd: zstd.path, pgRestore: pgRestore.path }, spawner, ctx);
    if (!head) {
      // Unreadable, or a head that fails its checksum or does not list: the temp-file path reads it and says why.
      await cleanup();
      return null;
    }
    const { toc, reader, headBytes } = head;
    // Each frame after the head is a unit a stream fetches whole; its weight is the archive bytes it holds.
    const framed = reader && headBytes && framesMatchToc(reader.frames, toc.entries) ? reader.frames : null;
    const units = framed?.slice(1).map((f) => f.blocks);
    const weights = framed ? frameWeights(framed) : entryWeights(toc.entries, backup.manifest.tables);
    const split = splitStreams(toc.entries, toc.sections, weights, inputs.jobs, units);
    const write = async (name: string, ids: number[]): Promise<string> => {
      const file = path.join(dir, name);
      await fs.writeFile(file, useListText(ids));
      return file;
    };
    // The post-data work: indexes, keys, triggers as jobs of their own; what they cannot take stays for the end.
    const dataStreams = new Map(split.streams.flatMap((ids, i) => ids.map((id) => [id, i] as [number, number])));
    const dataWeights = framed ? entryWeights(toc.entries, backup.manifest.tables) : weights;
    const tableWeights = new Map<number, number>();
    // A table's data entries (several for a table dumped in pieces) each depend on its TABLE entry.
    const tableIds = new Set(toc.entries.filter((e) => e.type === 'TABLE').map((e) => e.id));
    for (const e of toc.entries) {
      const table = e.type === 'TABLE DATA' ? e.deps.find((d) => tableIds.has(d)) : undefined;
      if (table !== undefined) tableWeights.set(table, (tableWeights.get(table) ?? 0) + (dataWeights.get(e.id) ?? 0));
    }
    const post = planPostData(toc.entries, toc.sections, split.rest, dataStreams, tableWeights);
    const lists = {
      pre: await write('pre.list', split.pre),
      streams: await Promise.all(split.streams.map((ids, i) => write(`stream-${i}.list`, ids))),
      jobs: await write('jobs.list', post.jobs.map((j) => j.id)),
      rest: await write('rest.list', post.rest),
      // When the jobs' SQL cannot be used (see post-data-script.ts), pg_restore restores them with the rest.
      allRest: await write('all-rest.list', split.rest),
      restCount: post.rest.length,
      allRestCount: split.rest.length,
    };
    const fetch: FrameFetch | null =
      reader && framed && headBytes
        ? {
            ...reader,
            head: headBytes,
            perStream: split.streams.map((_, i) => split.unitStreams.flatMap((stream, u) => (stream === i ? [u + 1] : []))),
          }
        : null;
    return {
      streams: split.streams.length,
      byFrames: fetch !== null,
      run: (target, plan, flag) => runStreams({ ...inputs, objectUrl, headFile, lists, postJobs: post.jobs, fetch, zstd: zstd.path, pgRestore: pgRestore.path }, target, plan, flag, deps),
      cleanup,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

interface RunInputs extends StreamInputs {
  objectUrl: string;
  headFile: string;
  lists: { pre: string; streams: string[]; jobs: string; rest: string; allRest: string; restCount: number; allRestCount: number };
  /** The post-data jobs, run on sessions of the restore's own. */
  postJobs: PostDataJob[];
  /** Each stream's frames, when the payload is read by frames; null: each stream reads it whole. */
  fetch: FrameFetch | null;
  zstd: string;
  pgRestore: string;
}

async function runStreams(inputs: RunInputs, target: ConnInfo, plan: RestorePlan, flag: string, deps: RestoreDeps): Promise<{ comparison: RowCountComparison[] | null; ok: boolean }> {
  const { ctx } = deps;
  const { backup, headFile } = inputs;
  const env = pgToolEnv(target, ctx.env);
  const options = restoreOptionArgs(target.database, plan);
  // Where the time goes, at LIFEBOAT_LOG_LEVEL=debug.
  const t0 = Date.now();
  const phase = (name: string, extra: Record<string, unknown> = {}): void => ctx.logger.debug({ phase: name, seconds: (Date.now() - t0) / 1000, ...extra }, `restore: ${name}`);

  // The jobs' SQL is rendered while the schema is restored. A script that cannot serve (a rendering that failed,
  // an encoding the sessions cannot speak, a piece missing) leaves the jobs to the last pg_restore, as before.
  const scriptOptions = [...(plan.noOwner ? ['--no-owner'] : []), ...(plan.noPrivileges ? ['--no-privileges'] : [])];
  const rendering: Promise<PostDataScript | null> = inputs.postJobs.length
    ? renderPostDataScript(inputs.pgRestore, headFile, inputs.lists.jobs, scriptOptions, ctx.env, deps.spawner ?? defaultSpawner, ctx.signal).catch(() => null)
    : Promise.resolve(null);
  await runPgRestore(inputs, [...options, `--use-list=${inputs.lists.pre}`, headFile], env, target, plan, deps);
  phase('pre-data restored');
  const script = await rendering;
  const usable = script !== null && inputs.postJobs.every((j) => script.pieces.has(j.id));
  // A large table's key builds its index beside the table's other indexes (post-data-keys.ts).
  const work = usable ? splitKeyBuilds(inputs.postJobs, script.pieces) : { jobs: [], pieces: new Map<number, string>() };
  const queue = new PostDataQueue(work.jobs);
  const restList = usable ? inputs.lists.rest : inputs.lists.allRest;
  const restCount = usable ? inputs.lists.restCount : inputs.lists.allRestCount;

  const streams = inputs.lists.streams.length;
  const fetch = inputs.fetch;
  // What the streams will read: by frames, each frame once and the head (from memory) once per stream.
  const total = fetch
    ? fetch.frames.reduce((sum, f) => sum + f.bytes, 0) + fetch.head.length * (streams - 1)
    : backup.manifest.payload.storedBytes * streams;
  const progress = createProgress(ctx.stderr, 'restore', total);
  const read = new Array<number>(streams).fill(0);
  // The first stream (or post-data job) to fail stops the others; its outcome is the one reported.
  const stopAll = new AbortController();
  const cancel = AbortSignal.any([ctx.signal, stopAll.signal]);
  let first: number | null = null;
  let postFailure: { job: PostDataJob | null; error: unknown } | null = null;
  // Post-data jobs run on the sessions the loading streams leave free: loading streams and jobs together never
  // use more than --jobs sessions (a small DR server's max_connections).
  const loading = new Set(inputs.lists.streams.keys());
  const post = new PostDataRun(queue, { session: script?.session ?? '', pieces: work.pieces }, () => connectPg(target, flag), () => plan.jobs - loading.size, (job, ms) =>
    ctx.logger.debug({ job: job.what, ms }, 'restore: post-data job done'),
  );
  const postDone = post.wait().then((o) => {
    if (!o.ok && 'error' in o && first === null) {
      postFailure = { job: o.job, error: o.error };
      stopAll.abort();
    }
  });
  cancel.addEventListener('abort', () => post.stop(), { once: true });
  let thrown: unknown = null;
  const fail = (e: unknown): void => {
    thrown ??= e;
    stopAll.abort();
  };
  const loaded = (i: number): void => {
    phase('stream loaded', { stream: i });
    loading.delete(i);
    queue.loaded(i);
    post.kick();
  };
  post.kick();
  const settled = await Promise.allSettled(
    inputs.lists.streams.map((list, i) =>
      dataStream(inputs, i, [...options, `--use-list=${list}`], env, cancel, deps, (bytes) => {
        read[i] = bytes;
        progress.update(read.reduce((a, b) => a + b, 0));
      }, () => loaded(i)).then((o) => {
        if (first === null && postFailure === null && !o.cancelled && !streamSucceeded(o)) {
          first = i;
          stopAll.abort();
        }
        return o;
      }, (e: unknown) => {
        fail(e); // could not even start (a spawn error): stop the others, report it below
        throw e;
      }),
    ),
  );
  progress.done();
  // Every stream is done: the jobs left run on all the sessions (or stop, if anything failed).
  post.kick();
  await postDone;
  await post.close();
  phase('post-data jobs done', { jobs: usable ? inputs.postJobs.length : 0 });
  if (ctx.signal.aborted) throw runtimeError('interrupted', `restore into ${target.database} interrupted: the database is incomplete`);
  if (thrown) throw thrown;
  const outcomes = settled.map((r) => (r as PromiseFulfilledResult<StreamOutcome>).value);
  if (postFailure) {
    // The checksum first, as everywhere: corrupt data can break an index build (a duplicate key, say). The
    // streams that loaded the job's tables read all they were to read unless they were stopped.
    const { job, error } = postFailure as { job: PostDataJob | null; error: unknown };
    for (const s of job?.streams ?? outcomes.keys()) await checkStoredBytes(inputs, outcomes[s]!);
    if (isLifeboatError(error)) throw error;
    throw runtimeError('restore_failed', `restoring backup ${backup.id} into database "${target.database}" failed: ${job ? `${job.what}: ` : ''}${(error as Error).message}`);
  }
  const failed = first ?? outcomes.findIndex((o) => !streamSucceeded(o));
  if (failed >= 0) throw await streamFailure(outcomes[failed]!, inputs, target, plan);
  // Read whole, every stream read every stored byte: each one's checksum is checked. Read by frames, every frame
  // but the head (checked when read) went to one stream, and each was checked as it ended.
  for (const o of outcomes) await checkStoredBytes(inputs, o, true);

  // What the streams and jobs left: no data blocks, so the head file serves (sequence values, grants, ...).
  // Nothing left (no sequences, grants, ...): no pg_restore to start for it.
  const rest = [...options, `--use-list=${restList}`, `--jobs=${plan.jobs}`, headFile];
  if (restCount > 0) await runPgRestore(inputs, rest, env, target, plan, deps);
  phase('rest restored');
  const counted = await compareWithManifest(backup, target, plan, flag);
  phase('rows counted');
  return counted;
}

async function dataStream(
  inputs: RunInputs,
  stream: number,
  args: string[],
  env: NodeJS.ProcessEnv,
  cancel: AbortSignal,
  deps: RestoreDeps,
  onBytes: (bytes: number) => void,
  onLoaded: () => void,
): Promise<StreamOutcome> {
  const spawner = deps.spawner ?? defaultSpawner;
  const decryptor = await openDecryptor(inputs.backup, inputs.identityText, inputs.objectUrl);
  const hasher = inputs.fetch ? null : new HashingStream();
  const verified = new Set<number>();
  let read = 0;
  hasher?.on('data', () => onBytes(hasher.bytes));
  const zstd = watchChild('zstd', spawner(inputs.zstd, ['-d', '-q', '-c'], { env: deps.ctx.env, stdio: ['pipe', 'pipe', 'pipe'] }));
  const restore = watchChild('pg_restore', spawner(inputs.pgRestore, args, { env, stdio: [zstd.child.stdout!, 'ignore', 'pipe'] }), pgRestoreWarning(deps.ctx));
  // pg_restore holds the read end now. Node's copy must go, or zstd would block, not fail, once pg_restore is done.
  zstd.child.stdout!.destroy();
  // A failed pg_restore stops this stream's download at once; success lets it run on to hash every byte.
  const failed = new AbortController();
  void restore.done.then((r) => {
    if (childSucceeded(r)) onLoaded();
    else failed.abort();
  });
  const stop = AbortSignal.any([cancel, failed.signal]);
  const kill = (): void => {
    restore.kill();
    zstd.kill();
  };
  stop.addEventListener('abort', kill, { once: true });
  try {
    const feed = (async (): Promise<unknown> => {
      try {
        const { fetch, storage } = inputs;
        const { payloadKey } = inputs.backup;
        const stdin = childStdin(zstd.child.stdin!);
        if (fetch) {
          await pumpFrames(storage, payloadKey, inputs.objectUrl, fetch, fetch.perStream[stream]!, verified, (chunk) => {
            read += chunk.length;
            onBytes(read);
            return stdin.write(chunk);
          }, stop);
          stdin.end();
          return null;
        }
        const stored = await storage.get(payloadKey);
        const stages: (Readable | Writable | NodeJS.ReadWriteStream)[] = [stored, hasher!];
        if (decryptor) stages.push(decryptor);
        stages.push(childStdinSink(stdin));
        await pipeline(stages as unknown as [Readable, Writable], { signal: stop });
        return null;
      } catch (e) {
        kill();
        return stop.aborted ? null : e;
      }
    })();
    const [feedError, zstdResult, restoreResult] = await Promise.all([feed, zstd.done, restore.done]);
    return { feedError, cancelled: cancel.aborted, zstd: zstdResult, restore: restoreResult, hasher, stream, verified };
  } finally {
    stop.removeEventListener('abort', kill);
  }
}

/** One pg_restore over the head file (no data read), stopped when `signal` aborts. */
async function spawnPgRestore(inputs: RunInputs, args: string[], env: NodeJS.ProcessEnv, signal: AbortSignal, deps: RestoreDeps): Promise<ChildResult> {
  const spawner = deps.spawner ?? defaultSpawner;
  const proc = watchChild('pg_restore', spawner(inputs.pgRestore, args, { env, stdio: ['ignore', 'ignore', 'pipe'] }), pgRestoreWarning(deps.ctx));
  const onAbort = (): void => proc.kill();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await proc.done;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function runPgRestore(inputs: RunInputs, args: string[], env: NodeJS.ProcessEnv, target: ConnInfo, plan: RestorePlan, deps: RestoreDeps): Promise<void> {
  const result = await spawnPgRestore(inputs, args, env, deps.ctx.signal, deps);
  if (deps.ctx.signal.aborted) throw runtimeError('interrupted', `restore into ${target.database} interrupted: the database is incomplete`);
  if (!childSucceeded(result)) throw pgRestoreFailure(result, inputs.backup, target, plan);
}
