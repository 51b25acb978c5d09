/**
 * An S3 endpoint that does no storage work, for the benchmark: it accepts PutObject and multipart uploads and
 * throws payload bytes away (keeping only objects under 1 MiB, such as manifests, so listings and reads made by
 * a backup work). With it, the S3 wall time shows what lifeboat's own S3 path costs (signing, HTTP, part
 * buffering), free of an emulator's hashing and disk writes, which a real store does on its own machines. Not a
 * test double for correctness: the contract tests use real emulators.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const KEEP = 1024 * 1024;
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export async function startS3Sink(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const objects = new Map<string, { size: number; data?: Buffer; at: Date }>();
  const uploads = new Map<string, { key: string; size: number }>();
  let next = 1;

  const xml = (res: ServerResponse, status: number, body: string): void => {
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
  };
  /** Reads the body, keeping it only when small; returns its size. */
  const drain = (req: IncomingMessage, keep: boolean): Promise<{ size: number; data?: Buffer }> =>
    new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (keep && size <= KEEP) parts.push(c);
      });
      req.on('end', () => resolve({ size, ...(keep && size <= KEEP ? { data: Buffer.concat(parts) } : {}) }));
      req.on('error', reject);
    });

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://sink');
      const [, bucket = '', ...rest] = url.pathname.split('/');
      const key = decodeURIComponent(rest.join('/'));
      const q = url.searchParams;
      if (req.method === 'GET' && !key) {
        await drain(req, false);
        const prefix = q.get('prefix') ?? '';
        const hits = [...objects.entries()].filter(([k]) => k.startsWith(`${bucket}/${prefix}`));
        const contents = hits
          .map(([k, o]) => `<Contents><Key>${esc(k.slice(bucket.length + 1))}</Key><LastModified>${o.at.toISOString()}</LastModified><ETag>"0"</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`)
          .join('');
        xml(res, 200, `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${esc(bucket)}</Name><Prefix>${esc(prefix)}</Prefix><KeyCount>${hits.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`);
        return;
      }
      const id = `${bucket}/${key}`;
      if (req.method === 'POST' && q.has('uploads')) {
        await drain(req, false);
        const uploadId = String(next++);
        uploads.set(uploadId, { key: id, size: 0 });
        xml(res, 200, `<InitiateMultipartUploadResult><Bucket>${esc(bucket)}</Bucket><Key>${esc(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`);
        return;
      }
      const upload = uploads.get(q.get('uploadId') ?? '');
      if (req.method === 'PUT' && upload && q.has('partNumber')) {
        const { size } = await drain(req, false); // not `upload.size += await ...`: parts arrive concurrently
        upload.size += size;
        res.writeHead(200, { etag: `"${q.get('partNumber')}"` });
        res.end();
        return;
      }
      if (req.method === 'POST' && upload) {
        await drain(req, false);
        objects.set(upload.key, { size: upload.size, at: new Date() });
        uploads.delete(q.get('uploadId')!);
        xml(res, 200, `<CompleteMultipartUploadResult><Bucket>${esc(bucket)}</Bucket><Key>${esc(key)}</Key><ETag>"0-1"</ETag></CompleteMultipartUploadResult>`);
        return;
      }
      if (req.method === 'DELETE' && upload) {
        uploads.delete(q.get('uploadId')!);
        res.writeHead(204).end();
        return;
      }
      if (req.method === 'PUT') {
        const body = await drain(req, true);
        objects.set(id, { size: body.size, data: body.data, at: new Date() });
        res.writeHead(200, { etag: '"0"' });
        res.end();
        return;
      }
      await drain(req, false);
      const o = objects.get(id);
      if (req.method === 'GET' && o?.data) {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(o.data.length), etag: '"0"', 'last-modified': o.at.toUTCString() });
        res.end(o.data);
        return;
      }
      if (req.method === 'DELETE') {
        objects.delete(id);
        res.writeHead(204).end();
        return;
      }
      xml(res, 404, `<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${esc(key)}</Key></Error>`);
    })().catch((e: unknown) => res.destroy(e instanceof Error ? e : new Error(String(e))));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
