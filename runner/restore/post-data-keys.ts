/**
 * A large table's primary or unique key as two jobs: its unique index built beside the table's other indexes,
 * then the constraint put on that index (`ADD CONSTRAINT ... USING INDEX`, a catalog change). pg_restore runs
 * `ADD CONSTRAINT ... PRIMARY KEY` as one statement under an exclusive lock, so on a table with a key and two
 * more indexes one of its sessions idles while the key builds alone (2.2 s of 7 on the bench's `onebig`).
 *
 * Only the plainest forms are split, those whose statement matches exactly (plain column names, INCLUDE, NULLS
 * NOT DISTINCT, WITH, DEFERRABLE): the index then has the definition the constraint would have given it, in the
 * same tablespace (the piece's `SET default_tablespace`), and the constraint takes its name. Anything else, a
 * table without data of its own (a partitioned parent cannot take USING INDEX), or a table under `minBytes`
 * (nothing to gain) stays one job, exactly as pg_restore wrote it.
 *
 * splitKeyBuilds(jobs, pieces, minBytes) → { jobs, pieces }: pure. The build job has the negated id.
 */
import type { PostDataJob } from './post-data-jobs';

const IDENT = '(?:[a-z_][a-z0-9_$]*|"(?:[^"]|"")+")';
const NAME = `${IDENT}(?:\\.${IDENT})?`;
const COLUMNS = `${IDENT}(?:, ${IDENT})*`;
const KEY = new RegExp(
  `^ALTER TABLE ONLY (${NAME})\\n    ADD CONSTRAINT (${IDENT}) (PRIMARY KEY|UNIQUE)( NULLS NOT DISTINCT)? \\((${COLUMNS})\\)` +
    `( INCLUDE \\(${COLUMNS}\\))?( WITH \\([^()]*\\))?( DEFERRABLE(?: INITIALLY DEFERRED)?)?;$`,
);

/** Tables at least this large (bytes) have their keys split; below, a second round trip buys nothing. */
export const SPLIT_KEY_MIN_BYTES = 32 << 20;

/** The piece's settings (before its header) and its statement (after it), or null when it is not one statement. */
function partsOf(piece: string): { settings: string; statement: string } | null {
  const lines = piece.split('\n');
  const header = lines.findIndex((l) => l.startsWith('--'));
  if (header < 0) return null;
  const statement = lines
    .slice(header)
    .filter((l) => !l.startsWith('--'))
    .join('\n')
    .trim();
  return { settings: lines.slice(0, header).join('\n'), statement };
}

export function splitKeyBuilds(
  jobs: readonly PostDataJob[],
  pieces: ReadonlyMap<number, string>,
  minBytes = SPLIT_KEY_MIN_BYTES,
): { jobs: PostDataJob[]; pieces: Map<number, string> } {
  const out: PostDataJob[] = [];
  const sql = new Map(pieces);
  for (const job of jobs) {
    const piece = pieces.get(job.id);
    const parts = job.what.startsWith('CONSTRAINT ') && job.streams.length > 0 && job.tables.length === 1 && job.weight >= minBytes && piece ? partsOf(piece) : null;
    const m = parts ? KEY.exec(parts.statement) : null;
    if (!parts || !m) {
      out.push(job);
      continue;
    }
    const [, table, name, kind, nullsNotDistinct = '', columns, include = '', withClause = '', deferrable = ''] = m;
    const build = -job.id;
    sql.set(build, `${parts.settings}\nCREATE UNIQUE INDEX ${name} ON ${table} USING btree (${columns})${include}${nullsNotDistinct}${withClause};\n`);
    sql.set(job.id, `${parts.settings}\nALTER TABLE ONLY ${table}\n    ADD CONSTRAINT ${name} ${kind} USING INDEX ${name}${deferrable};\n`);
    out.push({ ...job, id: build, what: `${job.what} (its index)`, after: job.after, locks: [] });
    out.push({ ...job, after: [...job.after, build] });
  }
  return { jobs: out, pieces: sql };
}
