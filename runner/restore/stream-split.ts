/**
 * Which step of a streamed restore (restore/stream.ts) restores each entry of the archive's TOC: pure, given
 * the entries, their sections as pg_restore counts them, and each data entry's weight.
 *
 * - entryWeights(entries, tables): a data entry's weight, from the manifest's table sizes.
 * - splitStreams(entries, sections, weights, n): the pre-data list, each stream's data list, the rest (the
 *   post-data work among it is scheduled entry by entry: post-data-jobs.ts).
 */
import type { TableRowCount } from '../contract/manifest';
import { DATA_BLOCK_TYPES, type TocEntry } from '../pg/toc';


/**
 * Weight of each data entry: its table's bytes from the manifest (rows where an older manifest has no bytes),
 * shared among the entries of a table dumped in pieces.
 * Entries matched to no table (large objects, or a name the list line renders ambiguously) weigh the average.
 * A TABLE DATA list label is "schema name owner"; the longest schema and name it starts with wins.
 */
export function entryWeights(entries: readonly TocEntry[], tables: readonly TableRowCount[]): Map<number, number> {
  const keyed = tables.map((t) => ({ key: `${t.schema} ${t.name}`, weight: t.bytes ?? t.rows ?? 0 })).sort((a, b) => b.key.length - a.key.length);
  const byKey = new Map(keyed.filter((k) => !/ .* /.test(k.key)).map((k) => [k.key, k]));
  const out = new Map<number, number>();
  const unmatched: number[] = [];
  // A table dumped in pieces (backup --jobs) has a data entry per piece: they share its weight.
  const matched = new Map<number, (typeof keyed)[number]>();
  const entriesOf = new Map<(typeof keyed)[number], number>();
  for (const e of entries) {
    if (!DATA_BLOCK_TYPES.has(e.type)) continue;
    // Most labels are "schema name owner" with no spaces in the names: one lookup; the scan is for the others.
    const quick = e.type === 'TABLE DATA' ? byKey.get(e.label.slice(0, e.label.lastIndexOf(' '))) : undefined;
    const t = quick ?? (e.type === 'TABLE DATA' ? keyed.find((k) => e.label === k.key || e.label.startsWith(`${k.key} `)) : undefined);
    if (t) {
      matched.set(e.id, t);
      entriesOf.set(t, (entriesOf.get(t) ?? 0) + 1);
    } else unmatched.push(e.id);
  }
  for (const [id, t] of matched) out.set(id, t.weight / entriesOf.get(t)!);
  const known = [...out.values()];
  const average = known.length ? known.reduce((a, b) => a + b, 0) / known.length : 1;
  for (const id of unmatched) out.set(id, average);
  return out;
}

/** Entries pg_restore runs in its last pass, after everything else: grants run after the data, as with pg_restore -j. */
const ACL_PASS_TYPES = new Set(['ACL', 'ACL LANGUAGE', 'DEFAULT ACL']);

export type Section = 'pre-data' | 'data' | 'post-data';

export interface StreamSplit {
  /** The first step: the pre-data entries but the grants. */
  pre: number[];
  /** Each stream's --use-list, its data entries in the archive's order (a pg_restore reading stdin cannot go back). */
  streams: number[][];
  /** What follows the data: indexes, keys, sequence values, triggers, grants, ... (post-data-jobs.ts plans it). */
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
 * - Everything else in the data and post-data sections, and the grants of the pre-data section, is left to
 *   `rest`: post-data-jobs.ts takes the indexes, keys and triggers out of it as jobs of their own.
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
  const lists = (): number[][] => Array.from({ length: count }, () => [] as number[]);
  const split: StreamSplit = { pre: [], streams: lists(), rest: [], unitStreams };
  for (const e of entries) {
    const s = owner.get(e.id);
    const section = sections.get(e.id);
    if (s !== undefined) split.streams[s]!.push(e.id);
    else if (section === 'pre-data' && !ACL_PASS_TYPES.has(e.type)) split.pre.push(e.id);
    else if (section) split.rest.push(e.id);
  }
  return split;
}
