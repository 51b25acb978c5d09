import { after, before } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { openStorage } from '../../runner/storage/open';
import { startMoto, type S3Emulator } from '../harness/s3';
import { storageContract } from './contract';

const BUCKET = 'lifeboat-contract';
let emu: S3Emulator;

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
