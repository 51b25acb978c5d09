/**
 * Test helpers: backups written into a real local storage (manifest + payload, or a payload alone for a failed
 * run), and a RunContext that captures stdout, stderr and the structured log lines.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createHash } from 'node:crypto';
import { manifestKey, payloadKey, PAYLOAD_NAMES, type BackupClass, type Engine } from '../../runner/contract/layout';
import { serializeManifest, type ManifestInput } from '../../runner/contract/manifest';
import { createLogger } from '../../runner/log';
import type { RunContext } from '../../runner/context';
import { LocalStorage } from '../../runner/storage/local';

export async function tempStorage(): Promise<{ storage: LocalStorage; cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-store-'));
  return { storage: new LocalStorage(dir), cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

export interface FakeBackup {
  cls: BackupClass;
  engine?: Engine;
  source?: string;
  /** Backup id; its time is the snapshot time. */
  id: string;
  /** Stored payload size in bytes. */
  bytes?: number;
  /** Write the payload only (a failed run). */
  incomplete?: boolean;
  /** Modification time of the written files (default: the id's time). */
  mtime?: Date;
  kind?: ManifestInput['kind'];
  /** The object lock the manifest records (as a bucket's backup would). */
  lock?: ManifestInput['lock'];
}

export function idTime(id: string): Date {
  const t = id.slice(0, 16);
  return new Date(`${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(9, 11)}:${t.slice(11, 13)}:${t.slice(13, 15)}Z`);
}

export async function writeFakeBackup(storage: LocalStorage, b: FakeBackup): Promise<void> {
  const engine = b.engine ?? 'postgres';
  const source = b.source ?? 'shop';
  const payload = Buffer.alloc(b.bytes ?? 100, 7);
  const object = PAYLOAD_NAMES[engine];
  const pKey = payloadKey(b.cls, engine, source, b.id, object);
  await storage.putBytes(pKey, payload);
  const at = idTime(b.id);
  const mtime = b.mtime ?? at;
  await fs.utimes(path.join(storage.root, pKey), mtime, mtime);
  if (b.incomplete) return;
  const mKey = manifestKey(b.cls, engine, source, b.id);
  const manifest: ManifestInput = {
    formatVersion: 1,
    id: b.id,
    class: b.cls,
    engine,
    source,
    kind: b.kind ?? 'full',
    startedAt: at.toISOString(),
    finishedAt: at.toISOString(),
    snapshotAt: at.toISOString(),
    durationSeconds: 1,
    server: { version: '15.18' },
    tools: {},
    sourceInfo: { host: '127.0.0.1' },
    payload: {
      object,
      rawBytes: payload.length * 3,
      storedBytes: payload.length,
      sha256: createHash('sha256').update(payload).digest('hex'),
      compression: 'zstd',
      encryption: null,
    },
    ...(b.lock ? { lock: b.lock } : {}),
  };
  await storage.putBytes(mKey, serializeManifest(manifest));
  await fs.utimes(path.join(storage.root, mKey), mtime, mtime);
}

export interface CapturedContext {
  ctx: RunContext;
  stdout: () => string;
  stderr: () => string;
  /** Structured log lines, parsed. */
  events: () => Record<string, unknown>[];
}

function sink(chunks: string[], isTTY = false): Writable & { isTTY: boolean } {
  const w = new Writable({
    write(chunk: Buffer, _e, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  }) as Writable & { isTTY: boolean };
  w.isTTY = isTTY;
  return w;
}

export function capturedContext(now: Date | (() => Date), env: NodeJS.ProcessEnv = {}): CapturedContext {
  const out: string[] = [];
  const err: string[] = [];
  const log: string[] = [];
  const ctx: RunContext = {
    env,
    stdout: sink(out),
    stderr: sink(err),
    logger: createLogger({ destination: sink(log), pretty: false }),
    now: typeof now === 'function' ? now : () => now,
    signal: new AbortController().signal,
  };
  return {
    ctx,
    stdout: () => out.join(''),
    stderr: () => err.join(''),
    events: () =>
      log
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
