/**
 * S3 emulators for tests: s3rver (npm, pinned in package.json, pure Node, runs in this process) and moto_server
 * (Python moto, a child process; faithful multipart and pagination; .ci/run installs it from PyPI). Credentials are dummy values set in the environment for the SDK's default
 * chain: test-only. `stop()` is idempotent and also runs at process exit.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort, retryWhilePortTaken } from './ports';

export interface S3Emulator {
  name: 's3rver' | 'moto';
  endpoint: string;
  /** Environment for the SDK's default chain (dummy keys) and region: for this process and CLI children. */
  env: NodeJS.ProcessEnv;
  /** A client for assertions (pending multipart uploads, raw objects). */
  client: S3Client;
  createBucket(name: string): Promise<void>;
  /** Multipart uploads started and neither completed nor aborted, under `prefix`. */
  pendingUploads(bucket: string, prefix?: string): Promise<string[]>;
  stop(): Promise<void>;
}

// Test processes run Node 20 on purpose: silence the SDK's notice about future releases needing Node 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const CREDENTIALS_ENV = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
  // Keep the chain from looking at a developer's real profile or the instance metadata service.
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
};

function makeEmulator(name: S3Emulator['name'], endpoint: string, stop: () => Promise<void>): S3Emulator {
  const client = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    name,
    endpoint,
    env: { ...CREDENTIALS_ENV },
    client,
    async createBucket(bucket) {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    },
    async pendingUploads(bucket, prefix) {
      const r = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
      return (r.Uploads ?? []).map((u) => u.Key ?? '');
    },
    async stop() {
      client.destroy();
      await stop();
    },
  };
}

/**
 * s3rver encrypts its ListObjectsV2 continuation tokens with single DES ('des'), which OpenSSL 3 (Node 18+) no
 * longer provides, so every second page fails with InternalError. Triple DES with three equal keys is single DES
 * (encrypt-decrypt-encrypt with one key), so map the one onto the other, for s3rver's sake only.
 */
let desShimInstalled = false;
function installDesShim(): void {
  if (desShimInstalled) return;
  desShimInstalled = true;
  const crypto = require('node:crypto') as typeof import('node:crypto');
  const triple = (key: Buffer): Buffer => Buffer.concat([key, key, key]);
  const { createCipheriv, createDecipheriv } = crypto;
  const patch = crypto as unknown as Record<string, unknown>;
  patch.createCipheriv = (alg: string, key: Buffer, iv: Buffer, opts?: unknown) =>
    alg === 'des' ? createCipheriv('des-ede3-cbc', triple(key), iv) : createCipheriv(alg, key, iv, opts as never);
  patch.createDecipheriv = (alg: string, key: Buffer, iv: Buffer, opts?: unknown) =>
    alg === 'des' ? createDecipheriv('des-ede3-cbc', triple(key), iv) : createDecipheriv(alg, key, iv, opts as never);
}

/** s3rver in this process, storing under a fresh temp folder. */
export function startS3rver(): Promise<S3Emulator> {
  return retryWhilePortTaken(startS3rverOnce);
}

async function startS3rverOnce(): Promise<S3Emulator> {
  installDesShim();
  // s3rver ships no types.
  const S3rver = require('s3rver') as new (opts: Record<string, unknown>) => {
    run(): Promise<unknown>;
    close(): Promise<void>;
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-s3rver-'));
  const port = await freePort();
  const server = new S3rver({ port, address: '127.0.0.1', silent: true, directory: dir, resetOnClose: true });
  await server.run();
  let stopped = false;
  return makeEmulator('s3rver', `http://127.0.0.1:${port}`, async () => {
    if (stopped) return;
    stopped = true;
    await server.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });
}

/** The moto_server program; a missing one fails the test, naming what to install (it never skips). */
export function motoServerPath(): string {
  let p = '';
  try {
    p = execFileSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' }).trim();
  } catch {
    // not on PATH
  }
  if (!p) throw new Error(`moto_server not found: install it with "pip install 'moto[server]==5.2.1'" (Python package moto)`);
  return p;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export async function startMoto(): Promise<S3Emulator> {
  // A port found free can be taken by another test's server before ours binds it: start again on another one.
  return retryWhilePortTaken(() => startMotoOnce());
}

async function startMotoOnce(): Promise<S3Emulator> {
  const bin = motoServerPath();
  const port = await freePort();
  const child = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not start on port ${port}: ${stderr}`);
    }
    await sleep(100);
  }
  return makeEmulator('moto', `http://127.0.0.1:${port}`, async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
    }
    children.delete(child);
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
