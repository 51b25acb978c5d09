/**
 * Structured logs with pino: Cloud Logging's `severity` and `message` fields, redaction of secrets on every
 * line, JSON when not on a terminal and a compact readable line on one. Logs go to stderr; stdout is the
 * command's own output (ids, tables, JSON).
 */
import pino, { type Logger } from 'pino';
import { Writable } from 'node:stream';
import { EVENT_FIELDS, SEVERITY, type EventName } from './contract/events';
import { redact } from './redact';

export type { Logger } from 'pino';

const LEVEL_TO_SEVERITY: Record<string, string> = {
  trace: SEVERITY.debug,
  debug: SEVERITY.debug,
  info: SEVERITY.info,
  warn: SEVERITY.warn,
  error: SEVERITY.error,
  fatal: SEVERITY.fatal,
};

export interface LoggerOptions {
  /** Where lines go; default process.stderr. */
  destination?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Force the human format (true) or JSON (false); default: human on a TTY. */
  pretty?: boolean;
  level?: string;
}

/** A stream that redacts every line before passing it on (and optionally formats it for a person). */
function redactingStream(dest: NodeJS.WritableStream, pretty: boolean): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      const line = redact(chunk.toString('utf8'));
      dest.write(pretty ? humanLine(line) : line);
      cb();
    },
  });
}

function humanLine(jsonLine: string): string {
  try {
    const o = JSON.parse(jsonLine) as Record<string, unknown>;
    const { severity, message, time, event, ...rest } = o;
    const t = typeof time === 'string' ? time.slice(11, 19) : '';
    const extras = Object.entries(rest)
      .filter(([k]) => !['pid', 'hostname', 'level'].includes(k))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    const sev = severity === SEVERITY.info ? '' : `${String(severity)} `;
    return `${t} ${sev}${event ? `[${String(event)}] ` : ''}${String(message ?? '')}${extras ? `  ${extras}` : ''}\n`;
  } catch {
    return jsonLine;
  }
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const dest = opts.destination ?? process.stderr;
  const pretty = opts.pretty ?? Boolean((dest as { isTTY?: boolean }).isTTY);
  return pino(
    {
      level: opts.level ?? process.env.LIFEBOAT_LOG_LEVEL ?? 'info',
      messageKey: EVENT_FIELDS.message,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ [EVENT_FIELDS.severity]: LEVEL_TO_SEVERITY[label] ?? SEVERITY.info }),
      },
    },
    redactingStream(dest, pretty),
  );
}

/** A logger that drops everything (tests that do not look at logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** The final event of a run. Exactly one per run; the CLI wrapper calls it. */
export function logEvent(
  logger: Logger,
  event: EventName,
  fields: Record<string, unknown>,
  message: string,
  level: 'info' | 'error' | 'warn' = 'info',
): void {
  logger[level]({ [EVENT_FIELDS.event]: event, ...fields }, message);
}
