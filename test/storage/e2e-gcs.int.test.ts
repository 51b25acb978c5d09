import { openStorage } from '../../runner/storage/open';
import { startGcsEmulator, type GcsEmulator } from '../harness/gcs';
import { cloudEndToEnd } from './end-to-end';
import { startFaultProxy, type FaultProxy } from './fault-proxy';

const BUCKET = 'lifeboat-e2e'; // buckets exist implicitly in the emulator
let emu: GcsEmulator;
let proxy: FaultProxy;

cloudEndToEnd(
  'GCS (Firebase Storage emulator)',
  async () => {
    emu = await startGcsEmulator();
    proxy = await startFaultProxy(emu.host);
    return {
      url: `gs://${BUCKET}/prod`,
      env: { ...emu.env },
      faultyEnv: { ...emu.env, STORAGE_EMULATOR_HOST: proxy.endpoint },
      proxy,
      // The resumable session's data request (its URL carries the session, not the object name).
      uploadRequest: (req) => (req.method === 'PUT' || req.method === 'POST') && (req.url ?? '').includes('upload_id='),
      open: () => openStorage(`gs://${BUCKET}/prod`, { env: { ...process.env, ...emu.env } }),
    };
  },
  async () => {
    await proxy?.stop();
    await emu?.stop();
  },
);
