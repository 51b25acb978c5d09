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
 * parsePostDataScript(text) → { session, pieces } (pure), or line by line with PostDataScriptParser;
 * renderPostDataScript(...) runs pg_restore and parses its output as it arrives.
 */
import { StringDecoder } from 'node:string_decoder';
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
 * Takes the script line by line (pure). A setting line counts only at the top level: in the header, or after a
 * blank line between entries (pg_restore ends every entry with blank lines), so a line of a multi-line comment is
 * never taken for one; a header counts only after its "--" line.
 */
export class PostDataScriptParser {
  private readonly session: string[] = [];
  private readonly state = new Map<string, string>();
  private readonly pieces = new Map<number, string>();
  private current: { id: number; prefix: string[]; body: string[] } | null = null;
  private previous = '';
  private encoding = 'UTF8';
  private nonAscii = false;

  line(line: string): void {
    const header = this.previous === '--' ? /^-- TOC entry (\d+) /.exec(line) : null;
    const key = this.current === null || this.previous === '' ? stateKey(line) : null;
    this.previous = line;
    // eslint-disable-next-line no-control-regex
    if (!this.nonAscii && /[^\x00-\x7f]/.test(line)) this.nonAscii = true;
    if (line.startsWith('\\')) return;
    if (header) {
      this.finishPiece();
      this.current = { id: Number(header[1]), prefix: [...this.state.values()], body: [] };
    } else if (key) {
      this.state.set(key, line);
    } else if (this.current) {
      this.current.body.push(line);
    } else if (line.startsWith('SET client_encoding = ')) {
      this.encoding = /= '(.*)';$/.exec(line)?.[1] ?? line;
    } else if (line.trim() && !line.startsWith('--')) {
      this.session.push(line);
    }
  }

  /** The script's pieces, or null for another encoding with bytes beyond ASCII. */
  finish(): PostDataScript | null {
    this.finishPiece();
    if (this.encoding !== 'UTF8' && this.nonAscii) return null;
    return { session: this.session.join('\n') + '\n', pieces: this.pieces };
  }

  private finishPiece(): void {
    if (this.current) this.pieces.set(this.current.id, [...this.current.prefix, ...this.current.body].join('\n').trim() + '\n');
    this.current = null;
  }
}

/** Pure: the whole script at once. */
export function parsePostDataScript(text: string): PostDataScript | null {
  const parser = new PostDataScriptParser();
  for (const line of text.split('\n')) parser.line(line);
  return parser.finish();
}

/**
 * Pure: cuts UTF-8 text arriving in chunks (cut anywhere, even inside a character) into the lines `split('\n')`
 * would give, each to `onLine`; end() gives the last one (empty after a final newline).
 */
export function lineFeed(onLine: (line: string) => void): { write(chunk: Buffer): void; end(): void } {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const take = (text: string): void => {
    // A chunk inside one long line only grows it: it is split once, when its end comes.
    if (!text.includes('\n')) {
      partial += text;
      return;
    }
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const line of lines) onLine(line);
  };
  return {
    write: (chunk) => take(decoder.write(chunk)),
    end: () => {
      take(decoder.end());
      onLine(partial);
    },
  };
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
  // Parsed as it arrives: the whole script of thousands of tables (4 MB for 8,000) is never one string, which
  // node would hold three times over at once (the chunks, their concatenation, the text) and then the text as
  // long as a line cut from it was the subject of the last regular expression run (V8 keeps that one).
  const parser = new PostDataScriptParser();
  const feed = lineFeed((line) => parser.line(line));
  proc.child.stdout!.on('data', (c: Buffer) => feed.write(c));
  const onAbort = (): void => proc.kill();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await proc.done;
    if (result.code !== 0 || result.spawnError) {
      throw runtimeError('archive_unreadable', `rendering the post-data statements failed: ${describeChildFailure(result)}`);
    }
    feed.end();
    return parser.finish();
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
