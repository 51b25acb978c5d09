/**
 * A fault-injecting HTTP proxy in front of a storage emulator: once armed, it cuts the connection of matching
 * requests (payload uploads) after a number of body bytes, and of every matching request after that, while
 * everything else (listing, aborting the multipart upload, manifests) passes. It stands in for a network or
 * storage outage in the middle of an upload. Location headers are rewritten so resumable upload sessions
 * (GCS) keep going through the proxy. `inject` makes it answer a number of matching requests itself (a status
 * such as 503 SlowDown or 403 AccessDenied, or a reset connection) to check the backends' retries and errors.
 */
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the proxy does instead of forwarding plainly: answer itself, reset the connection, or forward and cut the
 * response after `cutResponseAfter` body bytes (a download that breaks halfway).
 */
export type InjectedReply =
  | { status: number; headers?: Record<string, string>; body?: string }
  | { cutResponseAfter: number }
  | 'reset';

export interface SeenRequest {
  method: string;
  url: string;
  injected: boolean;
  headers: http.IncomingHttpHeaders;
}

export interface FaultProxy {
  endpoint: string;
  /** Answers the next `times` matching requests with `reply` instead of forwarding them. */
  inject(times: number, match: (req: IncomingMessage) => boolean, reply: InjectedReply): void;
  /** Every request seen since the last `clearLog`, in order. */
  log(): SeenRequest[];
  clearLog(): void;
  /** Cuts matching requests once `afterBytes` bytes of their bodies have gone through, in total. */
  arm(afterBytes: number, match: (req: IncomingMessage) => boolean): void;
  disarm(): void;
  /** Connections cut so far. */
  cuts(): number;
  stop(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const t = new URL(target);
  let armed: { afterBytes: number; match: (req: IncomingMessage) => boolean } | null = null;
  let seen = 0;
  let tripped = false;
  let cuts = 0;
  let self = '';
  const injections: { times: number; match: (req: IncomingMessage) => boolean; reply: InjectedReply }[] = [];
  let seenLog: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const injection = injections.find((i) => i.times > 0 && i.match(req));
    seenLog.push({ method: req.method ?? '', url: req.url ?? '', injected: injection !== undefined, headers: req.headers });
    const cutAfter = injection && typeof injection.reply === 'object' && 'cutResponseAfter' in injection.reply ? injection.reply.cutResponseAfter : null;
    if (injection && cutAfter !== null) injection.times--;
    else if (injection) {
      injection.times--;
      const reply = injection.reply;
      if (reply === 'reset') {
        req.socket.destroy();
        return;
      }
      if (!('status' in reply)) return;
      // Read the whole body first, as a server would: a client still sending would see EPIPE, not the answer.
      req.resume();
      req.on('end', () => {
        res.writeHead(reply.status, { 'content-type': 'application/xml', ...reply.headers });
        res.end(reply.body ?? '');
      });
      return;
    }
    const matched = armed !== null && armed.match(req);
    if (matched && tripped) {
      cuts++;
      req.socket.destroy();
      return;
    }
    const up = http.request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers },
      (ur) => {
        const headers = { ...ur.headers };
        if (typeof headers.location === 'string') headers.location = headers.location.replace(t.origin, self);
        res.writeHead(ur.statusCode ?? 502, headers);
        if (cutAfter === null) {
          ur.pipe(res);
          return;
        }
        let sent = 0;
        ur.on('data', (c: Buffer) => {
          if (sent >= cutAfter) return;
          const part = c.subarray(0, cutAfter - sent);
          sent += part.length;
          res.write(part);
          if (sent >= cutAfter) {
            cuts++;
            ur.destroy();
            res.socket?.destroy();
          }
        });
        ur.on('end', () => res.end());
      },
    );
    up.on('error', () => res.destroy());
    req.on('data', (c: Buffer) => {
      if (!matched || !armed) return;
      seen += c.length;
      if (seen > armed.afterBytes && !tripped) {
        tripped = true;
        cuts++;
        up.destroy();
        req.socket.destroy();
      }
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint: self,
    inject(times, match, reply) {
      injections.push({ times, match, reply });
    },
    log: () => [...seenLog],
    clearLog() {
      seenLog = [];
      injections.length = 0;
    },
    arm(afterBytes, match) {
      armed = { afterBytes, match };
      seen = 0;
      tripped = false;
    },
    disarm() {
      armed = null;
    },
    cuts: () => cuts,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
