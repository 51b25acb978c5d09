/**
 * Replacing tables in a database that keeps the rest (`restore --table T --clean --yes`), in one transaction:
 * either the tables are replaced, or the target is left exactly as it was.
 *
 * pg_restore --clean drops and makes again what its list holds (runner/pg/toc.ts chooses: the tables, their keys,
 * indexes, triggers, the views built on them, their foreign keys out). Two kinds of ties to tables the target keeps
 * it cannot handle on its own, so the restore wraps its script in SQL of its own, all in one session:
 *
 * - The target's foreign keys into the replaced tables. The backup's rows may no longer satisfy one (the target
 *   has rows that reference rows the backup lacks): re-adding it then fails, and with it the whole restore. Each is
 *   dropped first and made again last, each in its own subtransaction (a PL/pgSQL block with an exception
 *   handler is a SAVEPOINT): one the rows break is rolled back alone, left out, and reported by name. The check
 *   is PostgreSQL's own ALTER TABLE ... ADD FOREIGN KEY, in the same transaction as the restored rows and under
 *   the locks it takes: exact by construction, where a NOT EXISTS query written here would have to repeat its
 *   matching rules (MATCH SIMPLE and FULL, NULLs, collations, partitioned tables) and could race writers. They
 *   are made again from the target's own definitions (pg_get_constraintdef), as the target has them: the table
 *   that holds the key is not the one being restored.
 * - Partitions: an attached partition's key and indexes belong to its parent's (they cannot be dropped alone),
 *   so each replaced partition is detached first. One whose parent is not restored is attached again at the end
 *   of the script (its TOC ATTACH entries come last), once its own key and indexes exist, so that ATTACH adopts
 *   them instead of making copies of the parent's.
 *
 * Why psql and a script rather than pg_restore into the database: pg_restore runs no SQL of the caller's in its
 * session, and the statements above must share its transaction. `pg_restore --file=-` writes exactly the SQL it
 * would run, and psql (same installation) runs it with ON_ERROR_STOP: at the first error psql ends the session
 * and PostgreSQL rolls the transaction back. COMMIT is sent only after pg_restore succeeded.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Client } from 'pg';
import { runtimeError } from '../errors';
import { connectPg, pgToolEnv, type ConnInfo } from '../pg/connection';
import { quoteTable, type TableRef } from '../pg/tables';
import { childSucceeded, defaultSpawner, watchChild, type ChildResult, type Spawner } from '../pipeline/spawn';
import type { RestoreDeps } from './pg-restore';

/** A foreign key of a table the target keeps, into a replaced table. */
export interface InboundForeignKey {
  /** The table that holds it, quoted and qualified. */
  table: string;
  name: string;
  /** pg_get_constraintdef with an empty search_path: every name qualified. */
  definition: string;
}

/** What ties the replaced tables to the rest of the target. */
export interface TargetTies {
  inbound: InboundForeignKey[];
  /** Replaced tables that are attached partitions in the target (quoted, qualified). */
  partitions: { parent: string; partition: string }[];
}

/** Reads the ties in the target before anything changes. `tables` holds leaves and partitioned parents alike. */
export async function readTargetTies(client: Pick<Client, 'query'>, tables: readonly TableRef[]): Promise<TargetTies> {
  // Definitions and regclass names fully qualified, whatever the role's search_path is.
  await client.query(`SELECT pg_catalog.set_config('search_path', '', false)`);
  const names = tables.map(quoteTable);
  const inbound = await client.query<InboundForeignKey>(
    `WITH sel AS (SELECT c.oid FROM unnest($1::text[]) q JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(q))
     SELECT co.conrelid::pg_catalog.regclass::text AS table, co.conname AS name, pg_catalog.pg_get_constraintdef(co.oid) AS definition
       FROM pg_catalog.pg_constraint co
      WHERE co.contype = 'f' AND co.conparentid = 0
        AND co.confrelid IN (SELECT oid FROM sel) AND co.conrelid NOT IN (SELECT oid FROM sel)
      ORDER BY 1, 2`,
    [names],
  );
  const partitions = await client.query<{ parent: string; partition: string }>(
    `WITH sel AS (SELECT c.oid FROM unnest($1::text[]) q JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(q))
     SELECT i.inhparent::pg_catalog.regclass::text AS parent, i.inhrelid::pg_catalog.regclass::text AS partition
       FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
      WHERE c.relispartition AND i.inhrelid IN (SELECT oid FROM sel)
      ORDER BY 1, 2`,
    [names],
  );
  return { inbound: inbound.rows, partitions: partitions.rows };
}

/** A dollar-quote tag that does not occur in `text`. */
function dollarTag(text: string): string {
  let tag = '$lifeboat$';
  for (let i = 0; text.includes(tag); i++) tag = `$lifeboat${i}$`;
  return tag;
}

/** Before pg_restore's script: the transaction, the inbound keys dropped, the partitions detached. */
export function preludeSql(ties: TargetTies): string {
  const lines = ['BEGIN;'];
  for (const fk of ties.inbound) lines.push(`ALTER TABLE ${fk.table} DROP CONSTRAINT ${quoteName(fk.name)};`);
  for (const p of ties.partitions) lines.push(`ALTER TABLE ${p.parent} DETACH PARTITION ${p.partition};`);
  return lines.join('\n') + '\n';
}

/**
 * After pg_restore's script: each inbound key made again in its own subtransaction, then COMMIT. The errors that
 * mean "the target cannot hold this key now" roll back that key alone: rows that break it (foreign_key_violation),
 * or a restored table that no longer has the referenced key or columns, or has them with other types. Any other
 * error fails the restore.
 */
export function postludeSql(ties: TargetTies): string {
  const lines: string[] = [];
  for (const fk of ties.inbound) {
    const stmt = `ALTER TABLE ${fk.table} ADD CONSTRAINT ${quoteName(fk.name)} ${fk.definition};`;
    const tag = dollarTag(stmt);
    lines.push(
      `DO ${tag} BEGIN ${stmt} EXCEPTION WHEN foreign_key_violation OR invalid_foreign_key OR undefined_column OR datatype_mismatch THEN NULL; END ${tag};`,
    );
  }
  lines.push('COMMIT;');
  return lines.join('\n') + '\n';
}

function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The inbound keys the target does not have after the restore: those left out, as "table.name". */
export async function missingForeignKeys(target: ConnInfo, flag: string, inbound: readonly InboundForeignKey[]): Promise<string[]> {
  if (!inbound.length) return [];
  const c = await connectPg(target, flag);
  try {
    await c.query(`SELECT pg_catalog.set_config('search_path', '', false)`);
    const r = await c.query<{ present: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint co WHERE co.contype = 'f' AND co.conname = q.name
                        AND co.conrelid = pg_catalog.to_regclass(q.tbl)) AS present
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS q(tbl, name, i) ORDER BY q.i`,
      [inbound.map((f) => f.table), inbound.map((f) => f.name)],
    );
    return inbound.filter((_, i) => !r.rows[i]!.present).map((f) => `${f.table}.${quoteName(f.name).replace(/^"([a-z_][a-z0-9_$]*)"$/, '$1')}`);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * Runs prelude, `pg_restore --file=- --use-list=list`, postlude through one psql session. Resolves with the failed
 * child's result, or null when all succeeded (the transaction then committed).
 */
export async function runReplacingScript(
  tools: { pgRestore: string; psql: string },
  file: string,
  list: string,
  pgRestoreArgs: readonly string[],
  target: ConnInfo,
  ties: TargetTies,
  deps: RestoreDeps,
): Promise<ChildResult | null> {
  const { ctx } = deps;
  const spawner: Spawner = deps.spawner ?? defaultSpawner;
  const env = pgToolEnv(target, ctx.env);
  // Errors (with their DETAIL, HINT and CONTEXT lines) are the failure's; anything else is a warning.
  let inError = false;
  const onLine = (tool: string) => (line: string) => {
    if (/(: error:|ERROR:)/.test(line)) inError = true;
    else if (!(inError && /^(DETAIL|HINT|CONTEXT|LINE \d+):/.test(line))) {
      inError = false;
      ctx.logger.warn({ tool }, line);
    }
  };
  const psql = watchChild(
    'psql',
    spawner(tools.psql, ['--no-psqlrc', '--quiet', '--no-password', '--set=ON_ERROR_STOP=1', `--dbname=${dbnameConninfo(target.database)}`, '--file=-'], {
      env,
      stdio: ['pipe', 'ignore', 'pipe'],
    }),
    onLine('psql'),
  );
  const restore = watchChild('pg_restore', spawner(tools.pgRestore, [...pgRestoreArgs, `--use-list=${list}`, '--file=-', file], { env, stdio: ['ignore', 'pipe', 'pipe'] }), onLine('pg_restore'));
  const stdin = psql.child.stdin!;
  // psql ends early on an error: its closed stdin must not throw here (its exit status says why).
  stdin.on('error', () => undefined);
  const onAbort = (): void => {
    restore.kill();
    psql.kill();
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  // psql ending before pg_restore (it stopped at an SQL error) leaves pg_restore blocked on a pipe nobody reads:
  // stop it. psql's error is then the cause.
  let psqlEndedFirst = false;
  let restoreEnded = false;
  void psql.done.then(() => {
    if (restoreEnded) return;
    psqlEndedFirst = true;
    restore.child.stdout!.unpipe(stdin);
    restore.kill();
  });
  try {
    stdin.write(preludeSql(ties));
    restore.child.stdout!.pipe(stdin, { end: false });
    const r = await restore.done;
    restoreEnded = true;
    if (!childSucceeded(r) || ctx.signal.aborted || psqlEndedFirst) {
      // No COMMIT: psql reaches the end of its input inside the transaction, and PostgreSQL rolls it back.
      stdin.end();
      const p = await psql.done;
      return psqlEndedFirst && !childSucceeded(p) ? p : childSucceeded(r) ? p : r;
    }
    stdin.end(postludeSql(ties));
    const p = await psql.done;
    return childSucceeded(p) ? null : p;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

/** psql next to the pg_restore that reads the archive (the same installation). */
export async function psqlBeside(pgRestore: string): Promise<string> {
  const psql = path.join(path.dirname(pgRestore), 'psql');
  try {
    await fs.access(psql, fs.constants.X_OK);
  } catch {
    throw runtimeError('tool_missing', `psql not found beside ${pgRestore}: a --table --clean restore runs pg_restore's script through it`, 'Install the postgresql-client package of that major');
  }
  return psql;
}

/** A conninfo for psql -d that carries only the database name; everything else comes from PG* env. */
function dbnameConninfo(database: string): string {
  return `dbname='${database.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
