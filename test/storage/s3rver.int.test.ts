import { after, before } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { openStorage } from '../../runner/storage/open';
import { startS3rver, type S3Emulator } from '../harness/s3';
import { storageContract } from './contract';

const BUCKET = 'lifeboat-contract';
let emu: S3Emulator;
before(async () => {
  emu = await startS3rver();
  Object.assign(process.env, emu.env);
  await emu.createBucket(BUCKET);
});
after(async () => {
  await emu?.stop();
});

storageContract('S3 (s3rver)', () => ({
  open: (prefix) => openStorage(`s3://${BUCKET}/${prefix}`, { s3Endpoint: emu.endpoint }),
  urlFor: (prefix) => `s3://${BUCKET}/${prefix}`,
  firstPageSize: async (prefix) =>
    (await emu.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, MaxKeys: 1000 }))).KeyCount ?? -1,
  pendingUploads: async (prefix) => {
    try {
      return await emu.pendingUploads(BUCKET, prefix);
    } catch {
      return undefined as unknown as string[]; // s3rver does not implement ListMultipartUploads
    }
  },
}));
