import { T } from '../../lib/conventions';
import { containerDefinitions } from '../../lib/ecs';
import { resourcePolicy } from '../../lib/rule';
import { UNKNOWN, containsUnknown } from '../../lib/values';

const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

/** The duration coreutils `timeout` is given in an argv (`timeout [--opt...] DURATION cmd...`), in seconds. */
export function timeoutSeconds(argv: unknown[]): number | undefined | 'not-wrapped' {
  if (argv.length === 0 || typeof argv[0] !== 'string' || !/(^|\/)timeout$/.test(argv[0])) return 'not-wrapped';
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (typeof a !== 'string') return undefined;
    if (a === '-s' || a === '-k' || a === '--signal' || a === '--kill-after') { i++; continue; }
    if (a.startsWith('-')) continue;
    const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(a);
    return m ? Number(m[1]) * UNIT_SECONDS[m[2]] : undefined;
  }
  return undefined;
}

export default resourcePolicy({
  name: 'ecs-task-timeout',
  platform: 'aws',
  description: 'ECS task containers run under a deadline: the entry point (or command) starts with coreutils `timeout <duration>` no longer than maxTimeoutSeconds.',
  why: 'ECS has no task run-time limit: a hung dump runs (and bills) forever and the next scheduled run piles up behind it; the backup is silently missing.',
  fix: 'Set entryPoint ["timeout", "--signal=TERM", "--kill-after=60s", "7200s", "node", "/app/dist/runner/cli.js"].',
  enforcementLevel: 'mandatory',
  config: { maxTimeoutSeconds: { type: 'integer', minimum: 1, default: 86400, description: 'Longest acceptable deadline, in seconds.' } },
  types: [T.ecsTaskDefinition],
  check: (r, cfg, report) => {
    const containers = containerDefinitions(r);
    if (containers === UNKNOWN) return;
    const max = cfg.maxTimeoutSeconds as number;
    for (const c of containers) {
      if (c.essential === false) continue;
      const argv = Array.isArray(c.entryPoint) && c.entryPoint.length ? c.entryPoint : Array.isArray(c.command) ? c.command : [];
      if (containsUnknown(argv)) continue;
      const seconds = timeoutSeconds(argv);
      const name = String(c.name ?? '(unnamed)');
      if (seconds === 'not-wrapped') report(`container ${name} has no deadline: its entry point does not start with timeout <duration>`);
      else if (seconds === undefined) report(`container ${name}: the timeout duration cannot be read`);
      else if (seconds > max) report(`container ${name} has a ${seconds}s deadline, above ${max}s`);
    }
  },
});
