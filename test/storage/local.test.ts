import { after, before } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalStorage } from '../../runner/storage/local';
import { storageContract } from './contract';

let root = '';
before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'lifeboat-contract-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

storageContract('local folder', () => ({
  open: async (prefix) => new LocalStorage(path.join(root, prefix)),
  urlFor: (prefix) => pathToFileURL(path.join(root, prefix)).href,
}));
