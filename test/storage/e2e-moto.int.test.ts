import { describe, test } from 'node:test';
import { openStorage } from '../../runner/storage/open';
import { motoServerPath, startMoto, type S3Emulator } from '../harness/s3';
import { cloudEndToEnd } from './end-to-end';
import { startFaultProxy, type FaultProxy } from './fault-proxy';

const BUCKET = 'lifeboat-e2e';
let emu: S3Emulator;
let proxy: FaultProxy;

// moto cannot be installed offline: run where moto_server exists, say so visibly where it does not.
if (motoServerPath() === null) {
  describe('S3 (moto): backup and restore through the CLI', () => {
    test('moto_server is not installed here: suite skipped (pip install "moto[server]" to run it)', (t) => {
      t.skip('moto_server not on PATH');
    });
  });
} else {
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
}
