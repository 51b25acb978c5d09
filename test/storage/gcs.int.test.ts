import { after, before } from 'node:test';
import { Storage as GcsClient } from '@google-cloud/storage';
import { openStorage } from '../../runner/storage/open';
import { startGcsEmulator, type GcsEmulator } from '../harness/gcs';
import { storageContract } from './contract';

// Buckets exist implicitly in the emulator (creation is not supported).
const BUCKET = 'lifeboat-contract';
let emu: GcsEmulator;
before(async () => {
  emu = await startGcsEmulator();
});
after(async () => {
  await emu?.stop();
});

storageContract('GCS (Firebase Storage emulator)', () => ({
  open: (prefix) => openStorage(`gs://${BUCKET}/${prefix}`, { env: { ...process.env, ...emu.env } }),
  urlFor: (prefix) => `gs://${BUCKET}/${prefix}`,
  firstPageSize: async (prefix) => {
    const client = new GcsClient({ apiEndpoint: emu.host, projectId: 'lifeboat-test' });
    const [files] = await client.bucket(BUCKET).getFiles({ prefix, maxResults: 1000, autoPaginate: false });
    return files.length;
  },
}));
