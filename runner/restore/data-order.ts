/**
 * The order a data-only restore loads its tables in. Into a schema that already has its foreign keys (restored
 * with --schema-only, or made by the application), rows must arrive parent first. pg_dump orders the data that
 * way only in its own --data-only archives; a full archive holds it in name order, and pg_restore --data-only
 * then fails on the first child table loaded before its parent. So the archive's TABLE DATA entries are sorted
 * by the target's foreign keys (a partition counts as its root, whose keys it inherits). Foreign keys in a
 * cycle cannot be satisfied by any order: those need pg_restore --disable-triggers (a superuser's right).
 */
import type { Client } from 'pg';
import type { TocEntry } from '../pg/toc';

export interface ForeignKeyEdge {
  /** Qualified (schema.name) root of the referencing table. */
  child: string;
  /** Qualified root of the referenced table. */
  parent: string;
}

/** The target's foreign keys between the roots of its partition trees (or plain tables). */
export async function foreignKeyEdges(client: Pick<Client, 'query'>): Promise<{ edges: ForeignKeyEdge[]; rootOf: Map<string, string> }> {
  const roots = await client.query<{ t: string; root: string }>(
    `SELECT n.nspname || '.' || c.relname AS t, rn.nspname || '.' || rc.relname AS root
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_class rc ON rc.oid = coalesce(pg_partition_root(c.oid), c.oid) JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
  );
  const rootOf = new Map(roots.rows.map((r) => [r.t, r.root]));
  const fks = await client.query<{ child: string; parent: string }>(
    `SELECT DISTINCT cn.nspname || '.' || c.relname AS child, pn.nspname || '.' || p.relname AS parent
       FROM pg_constraint co
       JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
       JOIN pg_class p ON p.oid = co.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
      WHERE co.contype = 'f' AND co.conparentid = 0`,
  );
  const edges = fks.rows.map((e) => ({ child: rootOf.get(e.child) ?? e.child, parent: rootOf.get(e.parent) ?? e.parent }));
  return { edges, rootOf };
}

/**
 * `ids` (a restore's list, in archive order) with its TABLE DATA entries moved so that every referenced table's
 * data comes before its referencing tables' (other entries keep their places). `cyclic`: tables whose keys form
 * a cycle (left in archive order).
 */
export function orderDataEntries(
  entries: readonly TocEntry[],
  ids: readonly number[],
  edges: readonly ForeignKeyEdge[],
  rootOf: ReadonlyMap<string, string>,
): { ids: number[]; cyclic: string[] } {
  const byId = new Map(entries.map((e) => [e.id, e]));
  // A data entry's table is the TABLE entry it depends on.
  const tableOf = (e: TocEntry): string | null => {
    for (const d of e.deps) {
      const t = byId.get(d);
      if (t && t.type === 'TABLE' && t.schema !== null && t.name !== null) return `${t.schema}.${t.name}`;
    }
    return null;
  };
  const dataIds = ids.filter((id) => byId.get(id)?.type === 'TABLE DATA');
  const node = (id: number): string => {
    const t = tableOf(byId.get(id)!);
    return t === null ? `#${id}` : (rootOf.get(t) ?? t);
  };
  const nodes = new Set(dataIds.map(node));
  const parents = new Map<string, Set<string>>();
  for (const e of edges) {
    if (e.child === e.parent || !nodes.has(e.child) || !nodes.has(e.parent)) continue;
    if (!parents.has(e.child)) parents.set(e.child, new Set());
    parents.get(e.child)!.add(e.parent);
  }
  // Kahn's algorithm, stable: among the ready ones, archive order.
  const placed = new Set<string>();
  const sorted: number[] = [];
  let pending = [...dataIds];
  for (let progress = true; pending.length && progress; ) {
    progress = false;
    const next: number[] = [];
    const readyNow = new Set<string>();
    for (const id of pending) {
      const n = node(id);
      const waiting = [...(parents.get(n) ?? [])].some((p) => !placed.has(p));
      if (waiting) next.push(id);
      else {
        sorted.push(id);
        readyNow.add(n);
        progress = true;
      }
    }
    // A partitioned root is placed once all of its partitions' data is.
    for (const n of readyNow) if (!next.some((id) => node(id) === n)) placed.add(n);
    pending = next;
  }
  const cyclic = [...new Set(pending.map(node))];
  sorted.push(...pending);
  let k = 0;
  return { ids: ids.map((id) => (byId.get(id)?.type === 'TABLE DATA' ? sorted[k++]! : id)), cyclic };
}
