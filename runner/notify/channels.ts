/**
 * Where notifications go: a generic webhook (the notification and its event as JSON), a Slack incoming webhook
 * (Slack's `text` message), or email over SMTP with nodemailer. Every URL here is a secret (a Slack URL is its
 * own credential, an SMTP URL may carry a password): messages name the channel's kind and host only.
 */
import { usageError } from '../errors';
import { registerSecret } from '../redact';
import type { Notification } from './reasons';

export interface Channel {
  type: 'webhook' | 'slack' | 'email';
  url: string;
  from?: string;
  to?: string[];
}

const TIMEOUT_MS = 10_000;

/** What a log line may say about a channel: its kind and host, never the path, query or password. */
export function describeChannel(ch: Channel): string {
  try {
    return `${ch.type} ${new URL(ch.url.replace(/^slack\+/, '')).host}`;
  } catch {
    return ch.type;
  }
}

export async function send(ch: Channel, n: Notification): Promise<void> {
  if (ch.type === 'email') return sendEmail(ch, n);
  const body =
    ch.type === 'slack'
      ? { text: `*${n.title}*\n${n.text}` }
      : { reason: n.reason, title: n.title, text: n.text, job: n.job, event: { event: n.event.event, severity: n.event.severity, message: n.event.message, ...n.event.fields } };
  const res = await fetch(ch.url.replace(/^slack\+/, ''), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  await res.arrayBuffer().catch(() => undefined);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
}

async function sendEmail(ch: Channel, n: Notification): Promise<void> {
  const url = new URL(ch.url);
  const secure = url.protocol === 'smtps:';
  // Loaded for email only: nodemailer is 18 MiB of memory every other run would carry.
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport({
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
    // STARTTLS when the server offers it; a local relay without TLS still works.
    tls: { rejectUnauthorized: url.searchParams.get('tlsVerify') !== 'false' },
  });
  try {
    const fields = Object.entries(n.event.fields).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
    await transport.sendMail({
      from: ch.from,
      to: ch.to,
      subject: n.title,
      text: `${n.text}\n\nevent: ${n.event.event}\n${fields.join('\n')}\n`,
    });
  } finally {
    transport.close();
  }
}

/**
 * `--notify URL` on a one-shot command: http(s) is a generic webhook, `https://hooks.slack.com/...` (or any URL
 * written `slack+https://...`) a Slack incoming webhook, `smtp://[user:pass@]host[:port]?from=A&to=B[,C]` email.
 */
export function channelFromUrl(text: string, flag = '--notify'): Channel {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError('notify_invalid', `${flag} expected a webhook URL (https://...), a Slack webhook URL or smtp://host?from=...&to=..., got something that is not a URL`);
  }
  registerSecret(text);
  if (url.password) registerSecret(decodeURIComponent(url.password));
  if (url.protocol === 'smtp:' || url.protocol === 'smtps:') {
    const from = url.searchParams.get('from');
    const to = url.searchParams.get('to');
    if (!from || !to) throw usageError('notify_invalid', `${flag} expected an smtp:// URL with ?from=ADDRESS&to=ADDRESS[,ADDRESS]`);
    return { type: 'email', url: text, from, to: to.split(',').map((s) => s.trim()).filter(Boolean) };
  }
  if (url.protocol === 'slack+https:' || url.protocol === 'slack+http:' || url.host === 'hooks.slack.com') return { type: 'slack', url: text };
  if (url.protocol === 'https:' || url.protocol === 'http:') return { type: 'webhook', url: text };
  throw usageError('notify_invalid', `${flag} expected an http(s)://, slack+https:// or smtp(s):// URL, got a ${url.protocol} URL`);
}
