/**
 * Just enough of the GCS JSON API's resumable-upload protocol to exercise the chunked upload path that
 * production uses (https://cloud.google.com/storage/docs/performing-resumable-uploads): the Firebase emulator
 * finalizes a session on its first chunk, so it cannot test it. Written by hand because no
 * emulator that installs here implements the protocol faithfully; it is a test double for one protocol, not a
 * storage server.
 *
 *   POST /upload/storage/v1/b/<bucket>/o?uploadType=resumable&name=<object>   starts a session (Location header)
 *   PUT <session>  Content-Range: bytes A-B/<total or *>                        a chunk: 308 + Range, or 200 when
 *                                                                                 the total is reached (finalized)
 *   PUT <session>  Content-Range: bytes *\/<total or *>                          status query
 *
 *   POST /upload/storage/v1/b/<bucket>/o?uploadType=multipart                     a small object in one request
 *   DELETE /storage/v1/b/<bucket>/o/<object>                                    refused (403) while the object's
 *                                                                                 retention has not run out
 *
 * The JSON metadata each upload starts with is kept in `uploads` (object retention is checked there: no emulator
 * that installs here implements it). Objects appear in `objects` only when a session is finalized. Faults: `failChunks` answers the next chunk
 * requests with a status or a reset connection (the chunk is not stored), so the client's retry and resume
 * logic runs.
 */
import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { CRC32C } from '@google-cloud/storage';
import type { AddressInfo } from 'node:net';

interface Session {
  bucket: string;
  name: string;
  received: Buffer[];
  bytes: number;
  finalized: boolean;
}

export interface ChunkRequest {
  range: string;
  bytes: number;
  injected: string | null;
}

export interface FakeGcs {
  host: string;
  /** The metadata each upload (resumable session or multipart request) was started with, in order. */
  uploads: Array<{ bucket: string; name: string; metadata: Record<string, unknown> }>;
  /** Finalized objects by `bucket/name`. */
  objects: Map<string, Buffer>;
  /** Sessions started (finalized or not). */
  sessions(): number;
  /** Every chunk PUT (not status queries) with its Content-Range, in order. */
  chunks: ChunkRequest[];
  /** Answers the next `times` chunk PUTs with `status` (e.g. 503) or by resetting the connection. */
  failChunks(times: number, reply: number | 'reset', afterChunks?: number): void;
  stop(): Promise<void>;
}

export async function startFakeGcs(): Promise<FakeGcs> {
  const sessions = new Map<string, Session>();
  const objects = new Map<string, Buffer>();
  const chunks: ChunkRequest[] = [];
  const uploads: FakeGcs['uploads'] = [];
  const retainUntil = new Map<string, number>();
  const started = (bucket: string, name: string, metadata: Record<string, unknown>): void => {
    uploads.push({ bucket, name, metadata });
    const r = metadata.retention as { retainUntilTime?: string } | undefined;
    if (r?.retainUntilTime) retainUntil.set(`${bucket}/${name}`, Date.parse(r.retainUntilTime));
  };
  let faults: { times: number; reply: number | 'reset'; after: number } | null = null;
  let nextId = 1;
  let host = '';

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const incomplete = (res: ServerResponse, s: Session): void => {
    res.writeHead(308, s.bytes > 0 ? { range: `bytes=0-${s.bytes - 1}` } : {});
    res.end();
  };
  const readBody = (req: IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => resolve(Buffer.concat(parts)));
      req.on('error', reject);
    });

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', host);
      const start = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
      if (req.method === 'POST' && start && url.searchParams.get('uploadType') === 'multipart') {
        // multipart/related: the JSON metadata part, then the object's bytes.
        const body = await readBody(req);
        const boundary = /boundary="?([^";]+)"?/.exec(String(req.headers['content-type']))?.[1] ?? '';
        const parts = body.toString('latin1').split(`--${boundary}`).slice(1, -1);
        const part = (p: string): string => p.slice(p.indexOf('\r\n\r\n') + 4, -2);
        const meta = JSON.parse(part(parts[0]!)) as Record<string, unknown>;
        const bucket = decodeURIComponent(start[1]!);
        const name = String(meta.name ?? url.searchParams.get('name'));
        started(bucket, name, meta);
        const data = Buffer.from(part(parts[1]!), 'latin1');
        objects.set(`${bucket}/${name}`, data);
        json(res, 200, metadata({ bucket, name, received: [data], bytes: data.length, finalized: true }, data));
        return;
      }
      const del = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname);
      if (req.method === 'DELETE' && del) {
        const key = `${decodeURIComponent(del[1]!)}/${decodeURIComponent(del[2]!)}`;
        const until = retainUntil.get(key);
        if (until !== undefined && until > Date.now()) {
          json(res, 403, { error: { code: 403, message: `Object '${key}' is subject to object retention and cannot be deleted, overwritten or archived until ${new Date(until).toISOString()}` } });
          return;
        }
        objects.delete(key);
        res.writeHead(204);
        res.end();
        return;
      }
      if (req.method === 'POST' && start && url.searchParams.get('uploadType') === 'resumable') {
        const body = await readBody(req);
        const id = String(nextId++);
        sessions.set(id, { bucket: decodeURIComponent(start[1]!), name: url.searchParams.get('name') ?? '', received: [], bytes: 0, finalized: false });
        started(decodeURIComponent(start[1]!), url.searchParams.get('name') ?? '', body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {});
        url.searchParams.set('upload_id', id);
        res.writeHead(200, { location: url.toString() });
        res.end();
        return;
      }
      const s = sessions.get(url.searchParams.get('upload_id') ?? '');
      if (req.method !== 'PUT' || !s) {
        json(res, 404, { error: { code: 404, message: `fake GCS: no route for ${req.method} ${url.pathname}` } });
        return;
      }
      const range = String(req.headers['content-range'] ?? '');
      const status = /^bytes \*\/(\d+|\*)$/.exec(range);
      if (status) {
        await readBody(req);
        if (s.finalized) json(res, 200, metadata(s, objects.get(`${s.bucket}/${s.name}`)!));
        else incomplete(res, s);
        return;
      }
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range);
      if (!m) {
        await readBody(req);
        json(res, 400, { error: { code: 400, message: `fake GCS: unsupported Content-Range "${range}"` } });
        return;
      }
      const chunk: ChunkRequest = { range, bytes: 0, injected: null };
      chunks.push(chunk);
      if (faults && faults.times > 0 && chunks.length > faults.after) {
        faults.times--;
        chunk.injected = String(faults.reply);
        if (faults.reply === 'reset') {
          req.socket.destroy();
          return;
        }
        await readBody(req);
        json(res, faults.reply, { error: { code: faults.reply, message: 'injected by the test' } });
        return;
      }
      const body = await readBody(req);
      chunk.bytes = body.length;
      const from = Number(m[1]);
      if (from !== s.bytes || Number(m[2]) - from + 1 !== body.length) {
        json(res, 400, { error: { code: 400, message: `fake GCS: chunk ${range} does not continue at ${s.bytes}` } });
        return;
      }
      s.received.push(body);
      s.bytes += body.length;
      if (m[3] !== '*' && s.bytes === Number(m[3])) {
        s.finalized = true;
        objects.set(`${s.bucket}/${s.name}`, Buffer.concat(s.received));
        json(res, 200, metadata(s, objects.get(`${s.bucket}/${s.name}`)!));
        return;
      }
      incomplete(res, s);
    })().catch((e: unknown) => {
      res.destroy(e instanceof Error ? e : new Error(String(e)));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    uploads,
    objects,
    sessions: () => sessions.size,
    chunks,
    failChunks(times, reply, afterChunks = 0) {
      faults = { times, reply, after: chunks.length + afterChunks };
    },
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Object metadata as GCS returns it on finalizing, with the hashes the client checks its upload against. */
function metadata(s: Session, data: Buffer): Record<string, unknown> {
  // The SDK's own CRC32C (GCS's checksum), so the client's end-to-end check of the upload runs for real.
  const crc = new CRC32C();
  crc.update(data);
  return {
    kind: 'storage#object',
    bucket: s.bucket,
    name: s.name,
    size: String(s.bytes),
    generation: '1',
    crc32c: crc.toString(),
    md5Hash: createHash('md5').update(data).digest('base64'),
  };
}
