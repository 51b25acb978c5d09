/**
 * `lifeboat prune`: applies the retention rule (runner/retention/plan.ts) where the store has no lifecycle
 * rules. A dry run unless `yes`: every backup is printed with keep or delete and the reason either way.
 */
import path from 'node:path';
import type { CatalogFilter } from '../catalog/catalog';
import type { RunContext } from '../context';
import type { Storage } from '../storage/types';
import { LocalStorage } from '../storage/local';
import { applyPrune, collectPruneItems, type ApplyResult } from '../retention/apply';
import { planPrune, type PruneDecision, type RetentionPolicy } from '../retention/plan';

export interface PruneOptions {
  storage: Storage;
  policy: RetentionPolicy;
  /** Delete for real; otherwise only print the plan. */
  yes: boolean;
  filter?: CatalogFilter;
  json?: boolean;
}

export interface PruneResult {
  decisions: PruneDecision[];
  dryRun: boolean;
  keep: number;
  delete: number;
  applied: ApplyResult | null;
}

export async function prune(ctx: RunContext, opts: PruneOptions): Promise<PruneResult> {
  const items = await collectPruneItems(opts.storage, opts.filter ?? {});
  const decisions = planPrune(items, opts.policy, ctx.now());
  const toDelete = decisions.filter((d) => d.action === 'delete').length;

  if (!opts.json) {
    ctx.stdout.write(renderTable(decisions, opts.storage));
    ctx.stdout.write(
      opts.yes
        ? `${toDelete} to delete, ${decisions.length - toDelete} to keep\n`
        : `dry run: ${toDelete} would be deleted, ${decisions.length - toDelete} kept; run again with --yes to delete\n`,
    );
  }

  const applied = opts.yes && toDelete > 0 ? await applyPrune(opts.storage, decisions, { signal: ctx.signal }) : null;
  if (opts.json) {
    // Printed after deleting, so a machine also learns what was actually deleted and what was left alone.
    const rows = decisions.map((d) => decisionRow(d, opts.storage));
    ctx.stdout.write(JSON.stringify({ dryRun: !opts.yes, decisions: rows, applied }, null, 2) + '\n');
  }
  if (applied && !opts.json) {
    ctx.stdout.write(`deleted ${applied.deletedBackups} backups and ${applied.deletedPartials} partial files (${applied.freedBytes} bytes)\n`);
    for (const s of applied.skipped) ctx.stdout.write(`left alone: ${s} (its manifest appeared while pruning)\n`);
    for (const s of applied.locked) ctx.stdout.write(`left alone: ${s} (the store refused: its objects are still locked)\n`);
  }
  return { decisions, dryRun: !opts.yes, keep: decisions.length - toDelete, delete: toDelete, applied };
}

interface DecisionRow {
  action: 'keep' | 'delete';
  kind: 'complete' | 'incomplete' | 'partial';
  class: string;
  source: string;
  backup: string;
  reason: string;
}

function decisionRow(d: PruneDecision, storage: Storage): DecisionRow {
  const i = d.item;
  if (i.kind === 'partial') {
    const shown = storage instanceof LocalStorage ? path.relative(storage.root, i.file) : i.file;
    return { action: d.action, kind: i.kind, class: '-', source: '-', backup: shown, reason: d.reason };
  }
  return { action: d.action, kind: i.kind, class: i.cls, source: `${i.engine}/${i.source}`, backup: i.id, reason: d.reason };
}

function renderTable(decisions: PruneDecision[], storage: Storage): string {
  if (decisions.length === 0) return `no backups in ${storage.url}\n`;
  const rows = decisions.map((d) => decisionRow(d, storage));
  const header = ['ACTION', 'CLASS', 'SOURCE', 'BACKUP', 'REASON'];
  const cells = rows.map((r) => [r.action, r.class, r.source, r.backup, r.reason]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: string[]): string =>
    row.map((v, c) => (c === row.length - 1 ? v : v.padEnd(widths[c]!))).join('  ') + '\n';
  return line(header) + cells.map(line).join('');
}
