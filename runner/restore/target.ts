/**
 * The target database of a restore: checked before anything is downloaded (refusals are fast and change nothing),
 * and put back as it was when the restore fails (a database it created is dropped; what it added to an empty one
 * is removed: runner/pg/scratch.ts).
 */
import { usageError } from '../errors';
import { connectPg, quoteIdent, type ConnInfo } from '../pg/connection';
import { dropDatabase } from '../pg/databases';
import { dropAddedObjects, scratchState, type ScratchState } from '../pg/scratch';
import { qualified, quoteTable, userTableCount } from '../pg/tables';
import type { RestorePlan } from './pg-restore';

/**
 * Checks that restoring `plan` into the existing `target` destroys nothing it should not: a whole restore
 * needs a database without user tables, a selective one needs its tables absent and, in a database with other
 * user tables, `--clean --yes`; a data-only one needs its tables empty. `--clean --yes` lifts the first two.
 */
export async function checkTarget(target: ConnInfo, plan: RestorePlan, flag: string): Promise<void> {
  const c = await connectPg(target, flag);
  try {
    const name = `target database "${target.database}"`;
    if (plan.dataOnly) {
      for (const t of plan.tables) {
        const r = await c.query<{ has: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS has`, [quoteTable(t)]);
        if (!r.rows[0]!.has) continue;
        const rows = await c.query(`SELECT 1 FROM ONLY ${quoteTable(t)} LIMIT 1`);
        if ((rows.rowCount ?? 0) > 0) {
          throw usageError('target_not_empty', `${name}: table ${qualified(t)} already has rows; a data-only restore would add to them`, 'Empty it first, or restore into a new database with --create');
        }
      }
      return;
    }
    if (plan.clean) return;
    if (plan.selective) {
      const present: string[] = [];
      for (const t of plan.tables) {
        const r = await c.query<{ has: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS has`, [quoteTable(t)]);
        if (r.rows[0]!.has) present.push(qualified(t));
      }
      if (present.length) {
        throw usageError('target_not_empty', `${name} already has ${present.join(', ')}; nothing was changed`, 'Pass --clean --yes to replace them, or restore into a new database with --create');
      }
      // The rule of whole restores holds for --table too: a database with user tables is only written with --clean --yes.
      // The confirmation costs nothing when the selected tables are absent (--clean --if-exists then drops
      // nothing), and it keeps "restore one lost table into production" a deliberate act.
      const others = await userTableCount(c);
      if (others > 0) {
        throw usageError(
          'target_not_empty',
          `${name} has ${others} user table${others === 1 ? '' : 's'}; restoring --table into it needs --clean --yes; nothing was changed`,
          'With --clean --yes only the selected tables and their own objects are dropped (if present) and restored; the other tables are not touched',
        );
      }
      return;
    }
    const n = await userTableCount(c);
    if (n > 0) {
      throw usageError(
        'target_not_empty',
        `${name} already has ${n} user table${n === 1 ? '' : 's'}; nothing was changed`,
        'Restore into a new database with --create, or pass --clean --yes to drop and replace the objects in the backup',
      );
    }
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** The state of an existing database without user objects, which a failed restore can return it to exactly. */
export async function emptyState(target: ConnInfo, flag: string): Promise<ScratchState | null> {
  const c = await connectPg(target, flag);
  try {
    const state = await scratchState(c);
    return state.userObjects === 0 ? state : null;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Undoes what a failed restore made, and says what is left. */
export async function undoFailedRestore(target: ConnInfo, flag: string, created: boolean, emptyBefore: ScratchState | null, plan: RestorePlan): Promise<string> {
  const name = `"${target.database}"`;
  try {
    if (created) {
      await dropDatabase(target, flag);
      return `the database ${name} it created was dropped`;
    }
    if (emptyBefore) {
      const c = await connectPg(target, flag);
      try {
        await dropAddedObjects(c, emptyBefore);
      } finally {
        await c.end().catch(() => undefined);
      }
      return `what it had added to ${name} was removed`;
    }
  } catch (e) {
    return `cleaning up ${name} failed too (${(e as Error).message}): drop what the restore left there by hand`;
  }
  // Data-only and --table restores run in one transaction (archive.ts): a failure rolled all of it back.
  if (plan.dataOnly) return `${name} is as it was (the data loads in one transaction)`;
  if (plan.selective) return `${name} is as it was (a --table restore runs in one transaction)`;
  if (plan.clean) return `${name} was cleaned (--clean) and holds a partial restore`;
  return `${name} may hold part of the restore`;
}

/**
 * The schemas of a `--table` backup's tables that the target lacks. pg_dump --table dumps the tables and nothing
 * they depend on, not even their schema, so such a backup restores only into a database that has them. They are
 * created first, owned as in the source when the backup's catalog fingerprint says by whom and that role exists.
 * Returns the schemas created.
 */
export async function createMissingSchemas(target: ConnInfo, flag: string, schemas: readonly string[], owners: ReadonlyMap<string, string>): Promise<string[]> {
  const c = await connectPg(target, flag);
  try {
    const have = new Set((await c.query<{ n: string }>(`SELECT nspname AS n FROM pg_namespace WHERE nspname = ANY($1)`, [schemas])).rows.map((r) => r.n));
    const created: string[] = [];
    for (const schema of schemas) {
      if (have.has(schema)) continue;
      const owner = owners.get(schema);
      const exists = owner ? ((await c.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [owner])).rowCount ?? 0) > 0 : false;
      await c.query(`CREATE SCHEMA ${quoteIdent(schema)}${owner && exists ? ` AUTHORIZATION ${quoteIdent(owner)}` : ''}`);
      created.push(schema);
    }
    return created;
  } finally {
    await c.end().catch(() => undefined);
  }
}
