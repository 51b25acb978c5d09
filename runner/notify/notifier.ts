/**
 * Sends a notification to every channel, each retried with exponential backoff. A notification that cannot be
 * sent never fails the run it is about: it is logged (a warning naming the channel's kind and host) and counted.
 */
import type { Logger } from '../log';
import { redact } from '../redact';
import { describeChannel, send, type Channel } from './channels';
import type { Notification, NotifyReason } from './reasons';

export interface NotifierOptions {
  channels: readonly Channel[];
  /** Which reasons are sent; the others are dropped. */
  on: readonly NotifyReason[];
  attempts: number;
  backoffMs: number;
  logger: Logger;
  /** Told each channel that gave up (metrics). */
  onGiveUp?: (channel: Channel) => void;
  /** For tests: the sender (default: the real one). */
  sender?: (channel: Channel, n: Notification) => Promise<void>;
}

export class Notifier {
  constructor(private readonly opts: NotifierOptions) {}

  get enabled(): boolean {
    return this.opts.channels.length > 0;
  }

  /** Resolves when every channel has been sent to or has given up; never rejects. */
  async notify(n: Notification): Promise<void> {
    if (!this.opts.on.includes(n.reason)) return;
    await Promise.all(this.opts.channels.map((ch) => this.sendWithRetry(ch, n)));
  }

  private async sendWithRetry(ch: Channel, n: Notification): Promise<void> {
    const sender = this.opts.sender ?? send;
    let lastError = '';
    for (let attempt = 1; attempt <= this.opts.attempts; attempt++) {
      try {
        await sender(ch, n);
        this.opts.logger.info({ channel: ch.type, reason: n.reason, job: n.job }, `notified ${describeChannel(ch)}: ${n.title}`);
        return;
      } catch (e) {
        lastError = redact((e as Error)?.message ?? String(e));
        if (attempt < this.opts.attempts) await sleep(this.opts.backoffMs * 2 ** (attempt - 1));
      }
    }
    this.opts.onGiveUp?.(ch);
    this.opts.logger.warn(
      { channel: ch.type, reason: n.reason, job: n.job },
      `could not notify ${describeChannel(ch)} after ${this.opts.attempts} attempt(s): ${lastError}`,
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
