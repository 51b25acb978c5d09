/**
 * `--notify URL` (repeatable; or LIFEBOAT_NOTIFY, space- or comma-separated) on every one-shot command: its
 * final event goes to a webhook, Slack or email when the run failed, missed its RPO or failed its drill. A
 * one-shot run has no memory of earlier runs, so recoveries are told by the scheduler only.
 */
import { CommanderError, Option, type Command } from 'commander';
import type { RunContext } from '../context';
import { isLifeboatError } from '../errors';
import { channelFromUrl, type Channel } from '../notify/channels';
import { Notifier } from '../notify/notifier';
import { NOTIFY_REASONS, describeNotification, notifyReason } from '../notify/reasons';
import { collect } from './options';

/** The scheduler notifies from its config instead. */
const WITHOUT_NOTIFY = new Set(['schedule']);

export function addNotifyOption(program: Command, ctx: RunContext): void {
  const visit = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      if (sub.commands.length) visit(sub);
      else if (!WITHOUT_NOTIFY.has(sub.name())) {
        sub.addOption(new Option('--notify <url>', 'tell a webhook, Slack or email (smtp://) when the run fails; repeatable').argParser(collect));
      }
    }
  };
  visit(program);
  program.hook('preAction', (_program, action) => {
    if (WITHOUT_NOTIFY.has(action.name())) return;
    const flags = (action.opts() as { notify?: string[] }).notify;
    const urls = flags?.length ? flags : (ctx.env.LIFEBOAT_NOTIFY ?? '').split(/[\s,]+/).filter(Boolean);
    if (urls.length === 0) return;
    let channels: Channel[];
    try {
      channels = urls.map((u) => channelFromUrl(u, flags?.length ? '--notify' : 'LIFEBOAT_NOTIFY'));
    } catch (e) {
      // A usage failure like any other bad flag: exit 2 and the command's failure event (cli/main.ts).
      if (isLifeboatError(e)) throw new CommanderError(2, 'lifeboat.notifyInvalid', e.message);
      throw e;
    }
    const notifier = new Notifier({ channels, on: NOTIFY_REASONS, attempts: 3, backoffMs: 1000, logger: ctx.logger });
    const previous = ctx.onFinalEvent;
    ctx.onFinalEvent = async (event) => {
      await previous?.(event);
      const reason = notifyReason(event, 0);
      if (reason) await notifier.notify(describeNotification(reason, event));
    };
  });
}
