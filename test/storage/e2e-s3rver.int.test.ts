import { openStorage } from '../../runner/storage/open';
import { startS3rver, type S3Emulator } from '../harness/s3';
import { cloudEndToEnd } from './end-to-end';
import { startFaultProxy, type FaultProxy } from './fault-proxy';

const BUCKET = 'lifeboat-e2e';
let emu: S3Emulator;
let proxy: FaultProxy;

cloudEndToEnd(
  'S3 (s3rver)',
  async () => {
    emu = await startS3rver();
    Object.assign(process.env, emu.env);
    await emu.createBucket(BUCKET);
    proxy = await startFaultProxy(emu.endpoint);
    return {
      url: `s3://${BUCKET}/prod`,
      env: { ...emu.env, LIFEBOAT_S3_ENDPOINT: emu.endpoint },
      faultyEnv: { ...emu.env, LIFEBOAT_S3_ENDPOINT: proxy.endpoint },
      proxy,
      // UploadPart and PutObject of the payload; aborting the upload (DELETE) still goes through.
      uploadRequest: (req) => req.method === 'PUT' && (req.url ?? '').includes('dump.pgc'),
      open: () => openStorage(`s3://${BUCKET}/prod`, { s3Endpoint: emu.endpoint }),
    };
  },
  async () => {
    await proxy?.stop();
    await emu?.stop();
  },
);
