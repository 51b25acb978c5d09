import { openStorage } from '../../runner/storage/open';
import { startMoto, type S3Emulator } from '../harness/s3';
import { cloudEndToEnd } from './end-to-end';
import { startFaultProxy, type FaultProxy } from './fault-proxy';

const BUCKET = 'lifeboat-e2e';
let emu: S3Emulator;
let proxy: FaultProxy;

cloudEndToEnd(
  'S3 (moto)',
  async () => {
    emu = await startMoto();
    Object.assign(process.env, emu.env);
    await emu.createBucket(BUCKET);
    proxy = await startFaultProxy(emu.endpoint);
    return {
      url: `s3://${BUCKET}/prod`,
      env: { ...emu.env, LIFEBOAT_S3_ENDPOINT: emu.endpoint },
      faultyEnv: { ...emu.env, LIFEBOAT_S3_ENDPOINT: proxy.endpoint },
      proxy,
      uploadRequest: (req) => req.method === 'PUT' && (req.url ?? '').includes('dump.pgc'),
      open: () => openStorage(`s3://${BUCKET}/prod`, { s3Endpoint: emu.endpoint }),
      // moto implements ListMultipartUploads: the failed upload must have been aborted.
      pendingUploads: () => emu.pendingUploads(BUCKET),
    };
  },
  async () => {
    await proxy?.stop();
    await emu?.stop();
  },
);
