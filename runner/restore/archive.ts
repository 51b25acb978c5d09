/**
 * Restoring a fetched archive (a file: restore into an existing database, verify, the drill's fallback) into a
 * database that is ready: pg_restore -j N, with progress on a terminal, then the row-count comparison. A selective
 * restore goes through a TOC list of the selected tables and what they need (runner/pg/toc.ts).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CompleteBackup } from '../catalog/catalog';
import { runtimeError } from '../errors';
import { connectPg, pgToolEnv, type ConnInfo } from '../pg/connection';
import type { RowCountComparison } from '../pg/tables';
import { describeEntry, readToc, selectTocEntries, targetExistsCheck, useListText, type TocSelection } from '../pg/toc';
import { treeBytesRead } from '../pipeline/child-io';
import { createProgress } from '../pipeline/progress';
import { childSucceeded, defaultSpawner, watchChild } from '../pipeline/spawn';
import { foreignKeyEdges, orderDataEntries } from './data-order';
import { missingForeignKeys, psqlBeside, readTargetTies, runReplacingScript, type TargetTies } from './replace';
import { compareWithManifest, findPgRestore, pgRestoreFailure, pgRestoreWarning, restoreOptionArgs, type RestoreDeps, type RestorePlan } from './pg-restore';

/**
 * `useList`: a selective or data-only restore's TOC list (runner/pg/toc.ts); pg_restore restores exactly those
 * entries, in that order. Both run in one transaction (pg_restore allows no --jobs with it): they write into a
 * database that holds other things, so a failure must leave it exactly as it was. A data-only restore's tables
 * are then empty again and it can be retried; a --table --clean restore that cannot replace its table (another
 * object depends on it) has dropped nothing. `disableTriggers`: foreign keys in a cycle, which no load order
 * satisfies (data-order.ts).
 */
function restoreArgs(file: string, database: string, plan: RestorePlan, useList?: string, disableTriggers = false): string[] {
  const args = [...restoreOptionArgs(database, plan)];
  if (plan.dataOnly || plan.selective) args.push('--single-transaction', ...(disableTriggers ? ['--disable-triggers'] : []));
  else args.push(`--jobs=${plan.jobs}`);
  if (useList) args.push(`--use-list=${useList}`);
  args.push(file);
  return args;
}

/**
 * The TOC list of a selective restore: the tables with their indexes, constraints, triggers, defaults and
 * sequences, plus what the target lacks for them (runner/pg/toc.ts). Written next to the archive (its temp
 * folder is removed with it). Entries left out (a foreign key to a table outside the selection) are logged.
 */
async function writeSelectionList(
  pgRestore: string,
  file: string,
  target: ConnInfo,
  plan: RestorePlan,
  ctx: RestoreDeps['ctx'],
  flag: string,
): Promise<{ list: string; disableTriggers: boolean; ties: TargetTies | null; foreignKeysLeftOut: string[] }> {
  const entries = await readToc(pgRestore, file, ctx.env);
  const c = await connectPg(target, flag);
  let selection: { ids: number[]; skipped: TocSelection['skipped'] };
  let cyclic: string[] = [];
  let ties: TargetTies | null = null;
  try {
    const selected = plan.selective ? await selectTocEntries(entries, plan.tables, targetExistsCheck(c), { replacing: plan.clean }) : null;
    selection = selected ?? { ids: entries.map((e) => e.id), skipped: [] };
    if (selected && plan.clean) {
      // Replacing tables (replace.ts): the target's foreign keys into them are made again by the restore itself, and
      // an attachment to a parent the target keeps comes last, once the partition's own key and indexes exist.
      ties = await readTargetTies(c, plan.tables);
      const inbound = new Set(selected.inbound.map((e) => e.id));
      const attach = new Set(selected.attachToTarget.map((e) => e.id));
      const kept = selected.ids.filter((id) => !inbound.has(id));
      selection = { ...selection, ids: [...kept.filter((id) => !attach.has(id)), ...kept.filter((id) => attach.has(id))] };
    }
    if (plan.dataOnly) {
      // Parents' rows before their children's, as the target's foreign keys need (data-order.ts).
      const { edges, rootOf } = await foreignKeyEdges(c);
      const ordered = orderDataEntries(entries, selection.ids, edges, rootOf);
      selection = { ...selection, ids: ordered.ids };
      cyclic = ordered.cyclic;
      if (cyclic.length) ctx.logger.warn({ tables: cyclic }, `foreign keys in a cycle among ${cyclic.join(', ')}: loading with pg_restore --disable-triggers (needs a superuser)`);
    }
  } finally {
    await c.end().catch(() => undefined);
  }
  if (selection.skipped.length) {
    ctx.logger.warn(
      { skipped: selection.skipped.map(describeEntry) },
      `not restored with the selected tables (they need objects outside the selection): ${selection.skipped.map(describeEntry).join(', ')}`,
    );
  }
  const listFile = path.join(path.dirname(file), 'selection.list');
  await fs.writeFile(listFile, useListText(selection.ids));
  // As "schema.table.constraint", like the target's keys (the tag is "table constraint").
  const foreignKeysLeftOut = selection.skipped.filter((e) => e.type === 'FK CONSTRAINT' && e.name !== null).map((e) => `${e.schema}.${e.name!.replace(' ', '.')}`);
  return { list: listFile, disableTriggers: cyclic.length > 0, ties, foreignKeysLeftOut };
}

export interface ArchiveRestoreResult {
  comparison: RowCountComparison[] | null;
  ok: boolean;
  /** `--table --clean`: the target's foreign keys into the replaced tables that its rows no longer allow. */
  foreignKeysSkipped?: string[];
}

/**
 * Replaces tables in a database that keeps the rest (replace.ts), then compares row counts. The target's foreign
 * keys into them that its rows no longer allow are left out, with a warning naming each.
 */
async function replaceTables(
  file: string,
  tools: { pgRestore: string; psql: string },
  list: string,
  ties: TargetTies,
  outbound: readonly string[],
  backup: CompleteBackup,
  target: ConnInfo,
  plan: RestorePlan,
  deps: RestoreDeps,
  flag: string,
): Promise<ArchiveRestoreResult> {
  const { ctx } = deps;
  // pg_restore writes a script here (no --dbname, no --exit-on-error: psql stops at the first error).
  const args = ['--clean', '--if-exists'];
  if (plan.noOwner) args.push('--no-owner');
  if (plan.noPrivileges) args.push('--no-privileges');
  if (plan.schemaOnly) args.push('--schema-only');
  const failed = await runReplacingScript(tools, file, list, args, target, ties, deps);
  if (ctx.signal.aborted) throw runtimeError('interrupted', `restore into ${target.database} interrupted: nothing was changed (it runs in one transaction)`);
  if (failed) {
    const err = pgRestoreFailure(failed, backup, target, plan);
    // What stops a replace is most often an object of the target's that the backup does not have: name it.
    const dependent = /^DETAIL:\s+(.*depends on.*)$/m.exec(failed.stderr)?.[1];
    if (dependent) err.message += ` (${dependent.trim()})`;
    throw err;
  }
  const foreignKeysSkipped = [...outbound, ...(await missingForeignKeys(target, flag, ties.inbound))];
  if (foreignKeysSkipped.length) {
    ctx.logger.warn(
      { foreignKeysSkipped },
      `foreign key${foreignKeysSkipped.length === 1 ? '' : 's'} left out: ${foreignKeysSkipped.join(', ')}: the target cannot hold ${foreignKeysSkipped.length === 1 ? 'it' : 'them'} (a referenced table it lacks, or rows in it that reference rows the backup's table lacks); the table was restored without ${foreignKeysSkipped.length === 1 ? 'it' : 'them'}`,
    );
  }
  return { ...(await compareWithManifest(backup, target, plan, flag)), foreignKeysSkipped };
}

/** pg_restore of a fetched archive into a ready database, then the row-count comparison. */
export async function restoreArchive(
  file: string,
  backup: CompleteBackup,
  target: ConnInfo,
  plan: RestorePlan,
  deps: RestoreDeps,
  flag = '--target-url',
): Promise<ArchiveRestoreResult> {
  const { ctx } = deps;
  const spawner = deps.spawner ?? defaultSpawner;
  const tool = await findPgRestore(backup, ctx.env);

  const selection = plan.selective || plan.dataOnly ? await writeSelectionList(tool.path, file, target, plan, ctx, flag) : undefined;
  if (selection?.ties) {
    const tools = { pgRestore: tool.path, psql: await psqlBeside(tool.path) };
    return replaceTables(file, tools, selection.list, selection.ties, selection.foreignKeysLeftOut, backup, target, plan, deps, flag);
  }

  const proc = watchChild(
    'pg_restore',
    spawner(tool.path, restoreArgs(file, target.database, plan, selection?.list, selection?.disableTriggers), { env: pgToolEnv(target, ctx.env), stdio: ['ignore', 'ignore', 'pipe'] }),
    pgRestoreWarning(ctx),
  );
  const onAbort = (): void => proc.kill();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  // On a terminal: how much of the archive pg_restore (and its -j workers) has read, with rate and ETA.
  const progress = createProgress(ctx.stderr, 'pg_restore', await fs.stat(file).then((st) => st.size, () => undefined));
  const poll = ctx.stderr.isTTY && proc.child.pid !== undefined ? setInterval(() => {
    const read = treeBytesRead(proc.child.pid!);
    if (read !== null) progress.update(read);
  }, 250) : undefined;
  let result;
  try {
    result = await proc.done;
  } finally {
    if (poll) clearInterval(poll);
    progress.done();
    ctx.signal.removeEventListener('abort', onAbort);
  }
  if (ctx.signal.aborted) throw runtimeError('interrupted', `restore into ${target.database} interrupted: the database is incomplete`);
  if (!childSucceeded(result)) throw pgRestoreFailure(result, backup, target, plan);
  return compareWithManifest(backup, target, plan, flag);
}
