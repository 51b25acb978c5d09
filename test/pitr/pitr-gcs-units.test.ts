/**
 * A pgBackRest repository in a GCS bucket, the parts that need no server: the gs:// URL, the settings chosen from
 * the environment, and the configuration files (no secret in pgbackrest.conf, the key in the 0600 part).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pitrStorageFrom } from '../../runner/cli/pitr-options';
import { gcsSettings, GCS_EMULATOR_TOKEN, type PitrInitOptions } from '../../runner/commands/pitr-init';
import { pitrPaths, renderPgbackrestConf, writePitrConfig, PITR_CONFIG_FORMAT_VERSION, type PitrConfig } from '../../runner/pitr/config';
import { osUser } from '../../runner/pitr/os-user';
import type { LifeboatError } from '../../runner/errors';

const SERVICE_KEY = JSON.stringify({ type: 'service_account', client_email: 'pitr@p.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\nsecret-material\n-----END PRIVATE KEY-----\n' });

const CFG: PitrConfig = {
  formatVersion: PITR_CONFIG_FORMAT_VERSION, source: 'shop', pgdata: '/var/lib/postgresql/15/main', socketDir: '/var/run/postgresql', port: 5432,
  pgUser: 'postgres', database: 'shop', pgMajor: 15, repoPath: '/team/pitr/shop', storageUrl: 'gs://b/team', s3: null, gcs: null, encrypted: false, archiveTimeoutSeconds: 60,
};

function opts(extra: Partial<PitrInitOptions>): PitrInitOptions {
  return { conn: {} as PitrInitOptions['conn'], pgdata: '/x', storage: { kind: 'gcs', bucket: 'b', prefix: 'team', url: 'gs://b/team' }, configDir: '/x', source: 'shop', encrypt: false, apply: false, ...extra };
}

test('gs:// URLs name the bucket and the prefix the repository goes under', () => {
  assert.deepEqual(pitrStorageFrom('gs://b/team/'), { kind: 'gcs', bucket: 'b', prefix: 'team', url: 'gs://b/team' });
  assert.deepEqual(pitrStorageFrom('gs://b'), { kind: 'gcs', bucket: 'b', prefix: '', url: 'gs://b' });
  assert.throws(() => pitrStorageFrom('azure://c/p'), (e: LifeboatError) => e.code === 'pitr_storage_unsupported' && e.exitCode === 2 && /gs:\/\//.test(e.message));
});

test("GCS settings: Google's endpoint with the instance's account, a service-account key file, or an https emulator with its token", async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-pitr-gcs-units-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const keyFile = path.join(dir, 'sa.json');
  writeFileSync(keyFile, SERVICE_KEY);

  assert.deepEqual(await gcsSettings('b', opts({})), { settings: { bucket: 'b', endpoint: 'storage.googleapis.com', endpointUrl: null, caFile: null, keyType: 'auto' }, key: null });
  const service = await gcsSettings('b', opts({ gcsKeyFile: keyFile }));
  assert.equal(service.settings.keyType, 'service');
  assert.deepEqual(service.key, { kind: 'service', json: SERVICE_KEY });
  const emu = await gcsSettings('b', opts({ gcsEndpoint: 'https://localhost:8443', gcsCaFile: '/ca.pem' }));
  assert.deepEqual(emu, { settings: { bucket: 'b', endpoint: 'localhost:8443', endpointUrl: 'https://localhost:8443', caFile: '/ca.pem', keyType: 'token' }, key: { kind: 'token', token: GCS_EMULATOR_TOKEN } });

  await assert.rejects(gcsSettings('b', opts({ gcsEndpoint: 'http://127.0.0.1:9199' })), (e: LifeboatError) => e.code === 'gcs_endpoint_not_https' && e.exitCode === 2 && /STORAGE_EMULATOR_HOST/.test(e.message));
  const userCreds = path.join(dir, 'adc.json');
  writeFileSync(userCreds, JSON.stringify({ type: 'authorized_user', refresh_token: 'rt-secret' }));
  await assert.rejects(gcsSettings('b', opts({ gcsKeyFile: userCreds })), (e: LifeboatError) => e.code === 'gcs_key_not_service_account' && e.exitCode === 2 && /"authorized_user"/.test(e.message) && !e.message.includes('rt-secret'));
  await assert.rejects(gcsSettings('b', opts({ gcsKeyFile: path.join(dir, 'missing.json') })), (e: LifeboatError) => e.code === 'gcs_key_file_unreadable' && /GOOGLE_APPLICATION_CREDENTIALS/.test(e.message));
});

test('pgbackrest.conf names bucket, path and endpoint and holds no key; the key file is copied into the 0600 part', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-pitr-gcs-units-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const paths = pitrPaths(dir, 'shop');
  const me = osUser(process.getuid!(), process.getgid!());

  const cfg: PitrConfig = { ...CFG, gcs: { bucket: 'b', endpoint: 'storage.googleapis.com', endpointUrl: null, caFile: null, keyType: 'service' } };
  await writePitrConfig(cfg, paths, me, null, null, { kind: 'service', json: SERVICE_KEY });
  const conf = readFileSync(paths.conf, 'utf8');
  for (const line of ['repo1-type=gcs', 'repo1-path=/team/pitr/shop', 'repo1-gcs-bucket=b', 'repo1-gcs-endpoint=storage.googleapis.com', 'repo1-gcs-key-type=service']) {
    assert.ok(conf.includes(`${line}\n`), line);
  }
  assert.doesNotMatch(conf, /repo1-gcs-key=|repo1-storage-ca-file|secret-material/);
  assert.equal(statSync(paths.conf).mode & 0o777, 0o644);
  for (const f of [paths.gcsConf, paths.gcsKeyFile]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
  assert.equal(statSync(paths.secretDir).mode & 0o777, 0o700);
  assert.equal(readFileSync(paths.gcsConf, 'utf8'), `[global]\nrepo1-gcs-key=${paths.gcsKeyFile}\n`);
  assert.equal(readFileSync(paths.gcsKeyFile, 'utf8'), SERVICE_KEY);
  assert.doesNotMatch(readFileSync(paths.lifeboat, 'utf8'), /secret-material|private_key/);

  const emu: PitrConfig = { ...CFG, gcs: { bucket: 'b', endpoint: 'localhost:8443', endpointUrl: 'https://localhost:8443', caFile: '/ca.pem', keyType: 'token' } };
  const text = renderPgbackrestConf(emu, paths);
  for (const line of ['repo1-gcs-endpoint=localhost:8443', 'repo1-storage-ca-file=/ca.pem', 'repo1-gcs-key-type=token']) assert.ok(text.includes(`${line}\n`), line);
  assert.doesNotMatch(text, /repo1-gcs-key=/);
});
