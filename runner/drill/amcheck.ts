/**
 * amcheck over a restored database: `bt_index_check(index, heapallindexed => true)` on every valid B-tree
 * index of the user's schemas. It proves the indexes pg_restore built agree with the table data (and catches
 * collation or corruption problems a row count cannot see). The extension is created in the scratch database,
 * which the drill drops afterwards.
 */
import type { Client } from 'pg';

export interface AmcheckFailure {
  /** Qualified index name. */
  index: string;
  error: string;
}

export interface AmcheckResult {
  /** False when amcheck could not run at all (e.g. the extension is not installed or not permitted). */
  ran: boolean;
  indexesChecked: number;
  failures: AmcheckFailure[];
  /** Why it could not run. */
  error?: string;
}

const INDEXES_SQL = `
  SELECT c.oid::int8::text AS oid, format('%I.%I', n.nspname, c.relname) AS name
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_am am ON am.oid = c.relam
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE am.amname = 'btree' AND c.relkind = 'i' AND c.relpersistence <> 't' AND i.indisvalid AND i.indisready
     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
   ORDER BY 2`;

export async function runAmcheck(client: Pick<Client, 'query'>): Promise<AmcheckResult> {
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS amcheck');
  } catch (e) {
    return { ran: false, indexesChecked: 0, failures: [], error: `CREATE EXTENSION amcheck failed: ${(e as Error).message}` };
  }
  const indexes = await client.query<{ oid: string; name: string }>(INDEXES_SQL);
  const failures: AmcheckFailure[] = [];
  for (const ix of indexes.rows) {
    try {
      await client.query('SELECT bt_index_check($1::oid::regclass, true)', [ix.oid]);
    } catch (e) {
      failures.push({ index: ix.name, error: (e as Error).message });
    }
  }
  return { ran: true, indexesChecked: indexes.rows.length, failures };
}
