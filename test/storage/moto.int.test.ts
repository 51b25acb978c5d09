import { after, before, describe, test } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { openStorage } from '../../runner/storage/open';
import { motoServerPath, startMoto, type S3Emulator } from '../harness/s3';
import { storageContract } from './contract';

// moto cannot be installed offline (it is a Python package), so this suite runs where moto_server exists and
// says so visibly where it does not. s3rver (npm, pinned) always runs the same contract.
const motoMissing = motoServerPath() === null;
const BUCKET = 'lifeboat-contract';
let emu: S3Emulator;

if (motoMissing) {
  describe('S3 (moto): storage contract', () => {
    test('moto_server is not installed here: suite skipped (pip install "moto[server]" to run it)', (t) => {
      t.skip('moto_server not on PATH');
    });
  });
} else {
  before(async () => {
    emu = await startMoto();
    Object.assign(process.env, emu.env);
    await emu.createBucket(BUCKET);
  });
  after(async () => {
    await emu?.stop();
  });
  storageContract('S3 (moto)', () => ({
    open: (prefix) => openStorage(`s3://${BUCKET}/${prefix}`, { s3Endpoint: emu.endpoint }),
    urlFor: (prefix) => `s3://${BUCKET}/${prefix}`,
    firstPageSize: async (prefix) =>
      (await emu.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, MaxKeys: 1000 }))).KeyCount ?? -1,
    // moto implements ListMultipartUploads faithfully: failed uploads must have been aborted.
    pendingUploads: (prefix) => emu.pendingUploads(BUCKET, prefix),
  }));
}
