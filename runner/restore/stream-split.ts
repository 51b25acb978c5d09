/**
 * Which step of a streamed restore (restore/stream.ts) restores each entry of the archive's TOC: pure, given
 * the entries, their sections as pg_restore counts them, and each data entry's weight.
 *
 * - entryWeights(entries, tables): a data entry's weight, from the manifest's table sizes.
 * - splitStreams(entries, sections, weights, n): the pre-data list, each stream's data and index lists, the rest.
 */
import type { TableRowCount } from '../contract/manifest';
import { DATA_BLOCK_TYPES, type TocEntry } from '../pg/toc';


/**
 * Weight of each data entry: its table's bytes from the manifest (rows where an older manifest has no bytes).
 * Entries matched to no table (large objects, or a name the list line renders ambiguously) weigh the average.
 * A TABLE DATA list label is "schema name owner"; the longest schema and name it starts with wins.
 */
export function entryWeights(entries: readonly TocEntry[], tables: readonly TableRowCount[]): Map<number, number> {
  const keyed = tables.map((t) => ({ key: `${t.schema} ${t.name}`, weight: t.bytes ?? t.rows ?? 0 })).sort((a, b) => b.key.length - a.key.length);
  const out = new Map<number, number>();
  const unmatched: number[] = [];
  for (const e of entries) {
    if (!DATA_BLOCK_TYPES.has(e.type)) continue;
    const t = e.type === 'TABLE DATA' ? keyed.find((k) => e.label === k.key || e.label.startsWith(`${k.key} `)) : undefined;
    if (t) out.set(e.id, t.weight);
    else unmatched.push(e.id);
  }
  const known = [...out.values()];
  const average = known.length ? known.reduce((a, b) => a + b, 0) / known.length : 1;
  for (const id of unmatched) out.set(id, average);
  return out;
}

/** Post-data entries a stream may build as soon as its own tables are loaded: a table's indexes and keys. */
const OWNABLE_POST_DATA_TYPES = new Set(['INDEX', 'CONSTRAINT']);

/** Entries that follow the object they describe: they go where that object goes. */
const ATTACHED_NOTE_TYPES = new Set(['COMMENT', 'SECURITY LABEL']);

/** Entries pg_restore runs in its last pass, after everything else: grants run after the data, as with pg_restore -j. */
const ACL_PASS_TYPES = new Set(['ACL', 'ACL LANGUAGE', 'DEFAULT ACL']);

export type Section = 'pre-data' | 'data' | 'post-data';

export interface StreamSplit {
  /** The first step: the pre-data entries but the grants. */
  pre: number[];
  /** Each stream's --use-list, its data entries in the archive's order (a pg_restore reading stdin cannot go back). */
  streams: number[][];
  /** Each stream's indexes and keys (and their comments), built from the head file once its data is in. */
  post: number[][];
  /** The last step: sequence values, foreign keys, triggers, grants, and whatever spans streams. */
  rest: number[];
  /** The stream each unit went to (units given, or one per data entry in the TOC's order). */
  unitStreams: number[];
}

/**
 * Pure: which step restores each entry, by explicit lists (no --section: pg_restore gives a comment or grant the
 * section of the entry before it in the list, so filtering reordered lists by section loses some).
 *
 * - `sections`: each entry's section as pg_restore itself counts it (pg_restore --list --section=X). Entries
 *   in none (ENCODING, STDSTRINGS, SEARCHPATH: applied from the archive's header anyway) are left out.
 * - Data entries are dealt heaviest first to the lightest stream; there are only as many streams as data
 *   entries that weigh anything (a stream costs a whole download), at least one. With `units` (the payload's
 *   frames: entries whose data blocks share a frame) each unit's entries go to one stream, dealt by their sum.
 * - A table's indexes and primary or unique keys go with its data (`post`), so they are built as soon as its
 *   stream has loaded, while the others still load, as pg_restore -j schedules them: an INDEX or CONSTRAINT
 *   whose dependencies are tables loaded by one stream, or pre-data objects, and at least one such table.
 *   Their comments and security labels follow.
 * - Everything else in the data and post-data sections, and the grants of the pre-data section, is left to the
 *   last step.
 */
export function splitStreams(
  entries: readonly TocEntry[],
  sections: ReadonlyMap<number, Section>,
  weights: ReadonlyMap<number, number>,
  n: number,
  units?: readonly (readonly number[])[],
): StreamSplit {
  const blocks = entries.filter((e) => DATA_BLOCK_TYPES.has(e.type));
  const dealt = units ?? blocks.map((e) => [e.id]);
  const weight = (unit: readonly number[]): number => unit.reduce((sum, id) => sum + (weights.get(id) ?? 0), 0);
  const count = Math.max(1, Math.min(n, dealt.filter((u) => weight(u) > 0).length));
  const load = new Array<number>(count).fill(0);
  const owner = new Map<number, number>();
  const unitStreams = new Array<number>(dealt.length).fill(0);
  const order = dealt.map((_, i) => i).sort((a, b) => weight(dealt[b]!) - weight(dealt[a]!) || (dealt[a]![0] ?? 0) - (dealt[b]![0] ?? 0));
  for (const u of order) {
    const lightest = load.indexOf(Math.min(...load));
    for (const id of dealt[u]!) owner.set(id, lightest);
    unitStreams[u] = lightest;
    load[lightest]! += weight(dealt[u]!);
  }
  const tableStream = new Map<number, number>();
  for (const e of blocks) if (e.type === 'TABLE DATA' && e.deps.length === 1) tableStream.set(e.deps[0]!, owner.get(e.id)!);
  const byId = new Map(entries.map((e) => [e.id, e]));
  for (const e of entries) {
    if (!OWNABLE_POST_DATA_TYPES.has(e.type) || sections.get(e.id) !== 'post-data') continue;
    let stream: number | null = null;
    let ok = true;
    for (const d of e.deps) {
      const s = tableStream.get(d);
      if (s !== undefined) {
        if (stream !== null && stream !== s) ok = false;
        stream = s;
      } else if (byId.get(d)?.type === 'TABLE' || sections.get(d) !== 'pre-data') {
        ok = false; // a table without data here (a partitioned parent), or something restored after the data
      }
    }
    if (ok && stream !== null) owner.set(e.id, stream);
  }
  for (const e of entries) {
    if (!ATTACHED_NOTE_TYPES.has(e.type) || e.deps.length !== 1) continue;
    const s = owner.get(e.deps[0]!);
    if (s !== undefined && !DATA_BLOCK_TYPES.has(byId.get(e.deps[0]!)?.type ?? '')) owner.set(e.id, s);
  }
  const lists = (): number[][] => Array.from({ length: count }, () => [] as number[]);
  const split: StreamSplit = { pre: [], streams: lists(), post: lists(), rest: [], unitStreams };
  for (const e of entries) {
    const s = owner.get(e.id);
    const section = sections.get(e.id);
    if (s !== undefined) (DATA_BLOCK_TYPES.has(e.type) ? split.streams : split.post)[s]!.push(e.id);
    else if (section === 'pre-data' && !ACL_PASS_TYPES.has(e.type)) split.pre.push(e.id);
    else if (section) split.rest.push(e.id);
  }
  return split;
}
