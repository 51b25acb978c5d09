/** `lifeboat schedule`: flags → runSchedule (runner/commands/schedule.ts); scheduled jobs run through the CLI itself. */
import type { Command } from 'commander';
import { EVENTS } from '../contract/events';
import type { RunContext } from '../context';
import { usageError } from '../errors';
import type { RunJob } from '../commands/schedule';
import { runAction } from './action';

interface ScheduleFlags {
  config?: string;
  metricsPort?: string;
  metricsHost: string;
  check?: boolean;
}

export function registerSchedule(program: Command, ctx: RunContext, setExit: (code: number) => void, runCli: RunJob): void {
  const cmd = program
    .command('schedule')
    .description('run the backups, drills, status checks and prunes of a schedule file until SIGTERM')
    .option('--config <file>', 'the schedule file (YAML)', 'lifeboat.yaml')
    .option('--metrics-port <port>', 'serve Prometheus metrics on /metrics (and /healthz) on this port')
    .option('--metrics-host <address>', 'address the metrics server listens on', '0.0.0.0')
    .option('--check', 'validate the file and print each job with its next run, then exit');
  cmd.action(async (flags: ScheduleFlags) => {
    const code = await runAction(ctx, { succeeded: EVENTS.scheduleStopped, failed: EVENTS.scheduleFailed }, {}, async () => {
      let metricsPort: number | undefined;
      if (flags.metricsPort !== undefined) {
        metricsPort = Number(flags.metricsPort);
        if (!/^\d+$/.test(flags.metricsPort) || metricsPort > 65535) {
          throw usageError('bad_flag', `--metrics-port expected a port number (0-65535), got "${flags.metricsPort}"`);
        }
      }
      // Loaded when the daemon runs, not on every command: its YAML parser, cron, lock file and Prometheus client
      // are some 25 MiB of a one-shot job's memory and 60 ms of its start.
      const { runSchedule } = await import('../commands/schedule');
      const r = await runSchedule({ configFile: flags.config ?? 'lifeboat.yaml', metricsPort, metricsHost: flags.metricsHost, check: flags.check }, { ctx, runJob: runCli });
      if (r.plan) {
        for (const p of r.plan) ctx.stdout.write(`${p.job}\tnext ${p.next}\tlifeboat ${p.argv.join(' ')}\n`);
        return { message: `${flags.config ?? 'lifeboat.yaml'} is valid: ${r.jobs.length} job(s)` };
      }
      return {
        message: r.aborted.length
          ? `stopped after ${r.runs} run(s); the stop timeout aborted ${r.aborted.join(', ')}`
          : `stopped after ${r.runs} run(s)`,
        fields: { runs: r.runs, aborted: r.aborted },
      };
    });
    setExit(code);
  });
}
