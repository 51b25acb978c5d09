/** `lifeboat report`: one self-contained HTML page about a store (runner/report/), written to a file or stdout. */
import { writeFileSync, renameSync, existsSync } from 'node:fs';
import type { Engine } from '../contract/layout';
import type { RunContext } from '../context';
import { runtimeError, usageError } from '../errors';
import { gatherReport, type StoreReport } from '../report/gather';
import { renderReportHtml } from '../report/html';
import type { Storage } from '../storage/types';

export interface ReportOptions {
  storage: Storage;
  /** Where the page goes; undefined: stdout. */
  out?: string;
  /** Replace an existing --out file. */
  force?: boolean;
  maxAgeSeconds: number;
  /** Only these sources (default: every source in the store). */
  filter?: { engine?: Engine; source?: string };
}

export async function runReport(opts: ReportOptions, deps: { ctx: RunContext }): Promise<StoreReport> {
  if (opts.out && existsSync(opts.out) && !opts.force) {
    throw usageError('out_exists', `--out ${opts.out} exists; add --force to replace it`);
  }
  const report = await gatherReport(opts.storage, { now: deps.ctx.now(), maxAgeSeconds: opts.maxAgeSeconds, filter: opts.filter });
  const html = renderReportHtml(report);
  if (!opts.out) {
    deps.ctx.stdout.write(html);
    return report;
  }
  // Written whole under a temp name and renamed: a reader never sees half a page.
  const tmp = `${opts.out}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, html);
    renameSync(tmp, opts.out);
  } catch (e) {
    throw runtimeError('report_unwritable', `--out ${opts.out}: cannot write it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return report;
}
