/**
 * A GCS JSON-API emulator for tests: the Firebase Storage emulator (firebase-tools, pinned in package.json
 * because these are its internals) started in this process. Its Java rules runtime is stubbed out: the GCS API
 * routes use the admin storage layer, which never consults rules. Each instance keeps its blobs in its own temp
 * folder so test files running in parallel do not share (or wipe) each other's objects.
 *
 * Known limits of the Firebase Storage emulator: buckets exist implicitly (creation is not supported), and resumable uploads
 * with `chunkSize` hang, so the backend sends one resumable request per object to it. The chunked path that
 * production uses is tested against test/storage/gcs-resumable-server.ts instead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, retryWhilePortTaken } from './ports';

export interface GcsEmulator {
  /** `http://127.0.0.1:<port>`: the value for STORAGE_EMULATOR_HOST. */
  host: string;
  /** Environment for a child process or openStorage({ env }) that should talk to this emulator. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

interface EmulatorInstance {
  start(): Promise<void>;
  stop(): Promise<void>;
  getPersistenceTmpDir(): string;
  _rulesRuntime: { start(): Promise<void>; stop(): Promise<void> };
  _rulesManager: { start(): Promise<unknown>; stop(): Promise<void>; getRuleset(): unknown };
}

export function startGcsEmulator(): Promise<GcsEmulator> {
  return retryWhilePortTaken(startGcsEmulatorOnce);
}

async function startGcsEmulatorOnce(): Promise<GcsEmulator> {
  const port = await freePort();
  const blobs = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-gcs-'));
  const { StorageEmulator } = require('firebase-tools/lib/emulator/storage') as {
    StorageEmulator: new (args: Record<string, unknown>) => EmulatorInstance;
  };
  class IsolatedEmulator extends StorageEmulator {
    override getPersistenceTmpDir(): string {
      return blobs;
    }
  }
  const emu = new IsolatedEmulator({ projectId: 'lifeboat-test', host: '127.0.0.1', port, auto_download: false });
  emu._rulesRuntime = { start: async () => {}, stop: async () => {} };
  emu._rulesManager = { start: async () => [], stop: async () => {}, getRuleset: () => undefined };
  // Registering it (not just starting it) matters: object metadata asks the registry for the emulator's URL.
  const { EmulatorRegistry } = require('firebase-tools/lib/emulator/registry') as {
    EmulatorRegistry: { start(i: EmulatorInstance): Promise<void>; stop(name: string): Promise<void> };
  };
  await EmulatorRegistry.start(emu);
  const host = `http://127.0.0.1:${port}`;
  let stopped = false;
  return {
    host,
    env: { STORAGE_EMULATOR_HOST: host, GOOGLE_CLOUD_PROJECT: 'lifeboat-test' },
    async stop() {
      if (stopped) return;
      stopped = true;
      await EmulatorRegistry.stop('storage').catch(() => {});
      rmSync(blobs, { recursive: true, force: true });
    },
  };
}
