/** `lifeboat report`: flags → runReport (runner/commands/report.ts). */
import type { Command } from 'commander';
import { EVENTS } from '../contract/events';
import type { RunContext } from '../context';
import { runReport } from '../commands/report';
import { runAction } from './action';
import { addStorageOptions, openStorageFrom, parseDuration, parseFilter, type StorageFlags } from './options';

interface ReportFlags extends StorageFlags {
  out?: string;
  force?: boolean;
  maxAge: string;
  engine?: string;
  source?: string;
}

export function registerReport(program: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const cmd = program.command('report').description('one self-contained HTML page about a store: backups over time, gaps, classes, drills');
  addStorageOptions(cmd);
  cmd
    .option('--out <file>', 'write the page to this file (default: stdout)')
    .option('--force', 'replace an existing --out file')
    .option('--max-age <duration>', 'a stretch longer than this without a backup is a gap, and unhealthy', '26h')
    .option('--engine <engine>', 'only sources of this engine (postgres or redis)')
    .option('--source <name>', 'only this source');
  cmd.action(async (flags: ReportFlags) => {
    const code = await runAction(ctx, { succeeded: EVENTS.reportSucceeded, failed: EVENTS.reportFailed }, {}, async () => {
      const maxAgeSeconds = parseDuration('--max-age', flags.maxAge);
      const filter = parseFilter(flags);
      const storage = await openStorageFrom(flags, ctx);
      const r = await runReport({ storage, out: flags.out, force: flags.force, maxAgeSeconds, filter }, { ctx });
      return {
        message: `report of ${r.sources.length} source(s) in ${r.storage}${flags.out ? ` written to ${flags.out}` : ''}: ${r.problems.length ? `${r.problems.length} problem(s)` : 'healthy'}`,
        fields: { sources: r.sources.length, problems: r.problems.length },
      };
    });
    setExit(code);
  });
}
