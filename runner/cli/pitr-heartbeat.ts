/** `lifeboat pitr heartbeat`: flags → runPitrHeartbeat (runner/commands/pitr-heartbeat.ts). */
import type { Command } from 'commander';
import { EVENTS, EVENT_FIELDS } from '../contract/events';
import type { RunContext } from '../context';
import { runAction } from './action';
import { addDatabaseUrlOption, addJsonOption, databaseFrom } from './options';

export function registerPitrHeartbeat(group: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const cmd = group.command('heartbeat').description('write one row to lifeboat.heartbeat, for drills to check a point in time against');
  addDatabaseUrlOption(cmd);
  addJsonOption(cmd);
  cmd.action(async (flags: { databaseUrl?: string; json?: boolean }) => {
    const fields: Record<string, unknown> = { [EVENT_FIELDS.engine]: 'postgres' };
    const code = await runAction(ctx, { succeeded: EVENTS.pitrHeartbeatSucceeded, failed: EVENTS.pitrHeartbeatFailed }, fields, async () => {
      const { runPitrHeartbeat } = await import('../commands/pitr-heartbeat');
      const conn = databaseFrom(flags, ctx);
      fields[EVENT_FIELDS.source] = conn.database;
      const h = await runPitrHeartbeat({ conn });
      const at = new Date(h.at).toISOString();
      ctx.stdout.write(flags.json ? JSON.stringify({ id: h.id, at }) + '\n' : `${h.id} ${at}\n`);
      return { message: `heartbeat ${h.id} written at ${at}`, fields: { heartbeatId: h.id } };
    });
    setExit(code);
  });
}
