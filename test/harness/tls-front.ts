/**
 * An HTTPS front for a plain-HTTP emulator, with a throwaway self-signed certificate for 127.0.0.1. pgBackRest
 * speaks only HTTPS to S3, and moto_server's own --ssl mode ends connections without a TLS close_notify, which
 * OpenSSL 3 (and so pgBackRest) reports as "unexpected eof while reading": Node's TLS in front of plain moto does
 * it properly. The certificate (PEM) is what clients trust: AWS_CA_BUNDLE for pgBackRest, NODE_EXTRA_CA_CERTS
 * for a Lifeboat process. The endpoint is named `localhost`, not 127.0.0.1: pgBackRest 2.45 checks the host name
 * against the certificate's DNS names only (an IP address entry does not count). It listens on 127.0.0.1 and,
 * where there is one, on ::1, whichever `localhost` resolves to first.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { requireOnPath } from './binaries';

export interface TlsFront {
  endpoint: string;
  /** The certificate's PEM file (world-readable: the cluster's OS user reads it too). */
  certFile: string;
  stop(): Promise<void>;
}

export async function startTlsFront(targetPort: number, dir: string): Promise<TlsFront> {
  const openssl = requireOnPath('openssl', 'openssl');
  const keyFile = path.join(dir, 'front-key.pem');
  const certFile = path.join(dir, 'front-cert.pem');
  execFileSync(openssl, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  chmodSync(certFile, 0o644);
  const handler: http.RequestListener = (req, res) => {
    const up = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(up);
  };
  const tls = { key: readFileSync(keyFile), cert: readFileSync(certFile) };
  const v4 = https.createServer(tls, handler);
  await new Promise<void>((resolve) => v4.listen(0, '127.0.0.1', resolve));
  const port = (v4.address() as AddressInfo).port;
  const v6 = https.createServer(tls, handler);
  const v6Listening = await new Promise<boolean>((resolve) => {
    v6.once('error', () => resolve(false));
    v6.listen(port, '::1', () => resolve(true));
  });
  const close = (s: https.Server): Promise<void> =>
    new Promise((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    });
  return {
    endpoint: `https://localhost:${port}`,
    certFile,
    stop: async () => {
      await close(v4);
      if (v6Listening) await close(v6);
    },
  };
}
