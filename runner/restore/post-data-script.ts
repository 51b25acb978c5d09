/**
 * The SQL of each post-data job (post-data-jobs.ts), as pg_restore itself writes it: one `pg_restore --file=-
 * --verbose --use-list=<the jobs>` over the head file renders every job's statements, and this cuts the script
 * into one piece per TOC entry. The jobs then run on sessions of our own (post-data-run.ts) instead of one
 * pg_restore process per job, which thousands of small tables would make thousands of processes each reading
 * the whole TOC. pg_restore, not Lifeboat, still decides every statement: the script is what it would send.
 *
 * A script is the archive's session settings (SET statement_timeout = 0, search_path, ...), then per entry: the
 * settings that changed since the entry before (default_tablespace, default_table_access_method, session
 * authorization), a `-- TOC entry N` header and the entry's statements. Since the pieces run out of the script's
 * order, on several sessions, each piece carries the whole state in force at its header, and each session runs
 * the session settings once. psql meta-commands (`\restrict`) are dropped: nothing here is psql.
 *
 * The sessions speak UTF-8 (node-postgres encodes every query so), so the script's `SET client_encoding` is left
 * out, and a script in another encoding with bytes beyond ASCII is refused (null): its jobs then go to pg_restore.
 *
 * parsePostDataScript(text) → { session, pieces } (pure); renderPostDataScript(...) runs pg_restore.
 */
import type { Spawner } from '../pipeline/spawn';
import { describeChildFailure, watchChild } from '../pipeline/spawn';
import { runtimeError } from '../errors';

export interface PostDataScript {
  /** Statements each session runs once, before any piece (client_encoding left out). */
  session: string;
  /** Each TOC entry's statements, with the state (tablespace, access method, authorization) in force for it. */
  pieces: Map<number, string>;
}

/** Settings that pg_restore emits only when they change, before the entry they are for. */
function stateKey(line: string): string | null {
  if (line.startsWith('SET default_tablespace = ')) return 'tablespace';
  if (line.startsWith('SET default_table_access_method = ')) return 'access method';
  if (line.startsWith('SET search_path = ') || line.startsWith("SELECT pg_catalog.set_config('search_path'")) return 'search path';
  if (line.startsWith('SET SESSION AUTHORIZATION ') || line === 'RESET SESSION AUTHORIZATION;') return 'authorization';
  if (line.startsWith('SET ROLE ')) return 'role';
  return null;
}

/**
 * Pure. A setting line counts only at the top level: in the header, or after a blank line between entries
 * (pg_restore ends every entry with blank lines), so a line of a multi-line comment is never taken for one; a
 * header counts only after its "--" line.
 */
export function parsePostDataScript(text: string): PostDataScript | null {
  const session: string[] = [];
  const state = new Map<string, string>();
  const pieces = new Map<number, string>();
  let current: { id: number; prefix: string[]; body: string[] } | null = null;
  const finish = (): void => {
    if (current) pieces.set(current.id, [...current.prefix, ...current.body].join('\n').trim() + '\n');
  };
  let previous = '';
  let encoding = 'UTF8';
  for (const line of text.split('\n')) {
    const header = previous === '--' ? /^-- TOC entry (\d+) /.exec(line) : null;
    const key = current === null || previous === '' ? stateKey(line) : null;
    previous = line;
    if (line.startsWith('\\')) continue;
    if (header) {
      finish();
      current = { id: Number(header[1]), prefix: [...state.values()], body: [] };
    } else if (key) {
      state.set(key, line);
    } else if (current) {
      current.body.push(line);
    } else if (line.startsWith('SET client_encoding = ')) {
      encoding = /= '(.*)';$/.exec(line)?.[1] ?? line;
    } else if (line.trim() && !line.startsWith('--')) {
      session.push(line);
    }
  }
  finish();
  // eslint-disable-next-line no-control-regex
  if (encoding !== 'UTF8' && /[^\x00-\x7f]/.test(text)) return null;
  return { session: session.join('\n') + '\n', pieces };
}

/** The script of the entries in `listFile`, rendered from the head file (no database involved). */
export async function renderPostDataScript(
  pgRestore: string,
  headFile: string,
  listFile: string,
  options: string[],
  env: NodeJS.ProcessEnv,
  spawner: Spawner,
  signal: AbortSignal,
): Promise<PostDataScript | null> {
  const proc = watchChild('pg_restore', spawner(pgRestore, ['--verbose', '--file=-', `--use-list=${listFile}`, ...options, headFile], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
  const chunks: Buffer[] = [];
  proc.child.stdout!.on('data', (c: Buffer) => chunks.push(c));
  const onAbort = (): void => proc.kill();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await proc.done;
    if (result.code !== 0 || result.spawnError) {
      throw runtimeError('archive_unreadable', `rendering the post-data statements failed: ${describeChildFailure(result)}`);
    }
    return parsePostDataScript(Buffer.concat(chunks).toString('utf8'));
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
