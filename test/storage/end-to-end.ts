/**
 * End-to-end through the real CLI (a `lifeboat` subprocess) against a cloud storage emulator: a 200 MB+
 * incompressible database backed up encrypted and restored with matching row counts, a wrong and a missing
 * identity, and a storage outage in the middle of the upload. One dataset per test file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ManifestSchema, type Manifest } from '../../runner/contract/manifest';
import { recipientFingerprint } from '../../runner/crypto/age';
import type { Storage } from '../../runner/storage/types';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { finalEvent, runCliProcess } from '../runner/cli-harness';
import type { FaultProxy } from './fault-proxy';

export interface CloudTarget {
  /** `s3://bucket/prefix` or `gs://bucket/prefix`. */
  url: string;
  /** Environment for the CLI process: credentials, endpoint or emulator host. */
  env: NodeJS.ProcessEnv;
  /** The same, but through the fault proxy. */
  faultyEnv: NodeJS.ProcessEnv;
  proxy: FaultProxy;
  /** Which requests carry payload bytes (the ones the proxy cuts). */
  uploadRequest: (req: IncomingMessage) => boolean;
  /** Storage opened in this process, for assertions. */
  open(): Promise<Storage>;
  pendingUploads?(): Promise<string[]>;
}

const MiB = 1024 * 1024;
const BLOB_ROWS = 210; // x 1 MiB of random bytes: incompressible, so the stored payload is over 200 MB

async function keypair(): Promise<{ identity: string; recipient: string }> {
  const age = await import('age-encryption');
  const identity = await age.generateX25519Identity();
  return { identity, recipient: await age.identityToRecipient(identity) };
}

async function allKeys(s: Storage): Promise<string[]> {
  const out: string[] = [];
  for await (const o of s.list('')) out.push(o.key);
  return out.sort();
}

export function cloudEndToEnd(name: string, setup: () => Promise<CloudTarget>, teardown: () => Promise<void>): void {
  describe(`${name}: backup and restore through the CLI`, () => {
    let pg: PgCluster;
    let target: CloudTarget;
    let dir: string;
    let manifest: Manifest;
    let key: { identity: string; recipient: string };
    let identityFile: string;

    before(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-e2e-'));
      [pg, target, key] = await Promise.all([startPostgres(), setup(), keypair()]);
      identityFile = path.join(dir, 'identity.txt');
      writeFileSync(identityFile, `# test key\n${key.identity}\n`, { mode: 0o600 });
      await pg.createDatabase('big');
      await pg.query(
        `CREATE EXTENSION pgcrypto;
         CREATE TABLE blobs (id int PRIMARY KEY, data bytea NOT NULL);
         ALTER TABLE blobs ALTER data SET STORAGE EXTERNAL;
         INSERT INTO blobs SELECT g, (SELECT string_agg(gen_random_bytes(1024), ''::bytea) FROM generate_series(1, 1024) WHERE g > 0)
           FROM generate_series(1, ${BLOB_ROWS}) g;
         CREATE TABLE notes (id int PRIMARY KEY, body text, at timestamptz);
         INSERT INTO notes SELECT g, 'note ' || g, now() FROM generate_series(1, 5000) g;`,
        'big',
      );
    });
    after(async () => {
      await pg?.stop();
      await teardown();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('an encrypted 200 MB+ backup streams into the bucket; the manifest records fingerprints and checksum', async () => {
      const r = await runCliProcess(
        ['backup', '--storage', target.url, '--database-url', pg.url('big'), '--class', 'manual', '--encrypt-to', key.recipient, '--json'],
        target.env,
      );
      assert.equal(r.code, 0, r.stderr);
      manifest = ManifestSchema.parse(JSON.parse(r.stdout));
      assert.ok(manifest.payload.storedBytes > 200 * 1000 * 1000, `stored ${manifest.payload.storedBytes} bytes`);
      assert.equal(manifest.payload.object, 'dump.pgc.zst.age');
      assert.deepEqual(manifest.payload.encryption, { scheme: 'age', recipients: [recipientFingerprint(key.recipient)] });
      const storage = await target.open();
      const prefix = `manual/postgres/big/${manifest.id}/`;
      assert.deepEqual(await allKeys(storage), [`${prefix}dump.pgc.zst.age`, `${prefix}globals.json.age`, `${prefix}manifest.json`]);
      assert.equal(manifest.globals?.object, 'globals.json.age');
      const stored = (await storage.getBytes(`${prefix}manifest.json`)).toString();
      assert.ok(!stored.includes(key.recipient.slice(4)), 'the manifest holds fingerprints, not keys');
      assert.doesNotMatch(r.stdout + r.stderr, new RegExp(pg.password));
    });

    test('restore with the identity gives back every row', async () => {
      assert.ok(manifest, 'needs the backup of the previous test');
      const r = await runCliProcess(
        ['restore', manifest.id, '--storage', target.url, '--target-url', pg.url('big_restored'), '--create', '--jobs', '2', '--identity-file', identityFile],
        target.env,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`public\\.blobs\\s+${BLOB_ROWS}\\s+${BLOB_ROWS}\\s+ok`));
      assert.match(r.stdout, /public\.notes\s+5000\s+5000\s+ok/);
      const digest = 'SELECT md5(string_agg(md5(data), \'\' ORDER BY id)) AS d, sum(length(data)) AS n FROM blobs';
      const [a] = await pg.query<{ d: string; n: string }>(digest, 'big');
      const [b] = await pg.query<{ d: string; n: string }>(digest, 'big_restored');
      assert.deepEqual(b, a);
      assert.equal(Number(a!.n), BLOB_ROWS * MiB);
    });

    test('a wrong identity: exit 1 with a clear message, nothing restored', async () => {
      const other = await keypair();
      const wrong = path.join(dir, 'wrong.txt');
      writeFileSync(wrong, other.identity + '\n', { mode: 0o600 });
      const r = await runCliProcess(
        ['restore', manifest.id, '--storage', target.url, '--target-url', pg.url('wrong_target'), '--create', '--identity-file', wrong],
        target.env,
      );
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /none of the keys in the age identity file can decrypt/);
      assert.equal(finalEvent(r.stderr)?.event, 'restore.failed');
      assert.ok(!r.stderr.includes(other.identity), 'the secret key is never printed');
      const dbs = await pg.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname = 'wrong_target'");
      assert.deepEqual(dbs, []);
    });

    test('no identity for an encrypted backup: exit 1 naming --identity-file', async () => {
      const r = await runCliProcess(
        ['restore', manifest.id, '--storage', target.url, '--target-url', pg.url('no_identity'), '--create'],
        target.env,
      );
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /--identity-file/);
      const unreadable = await runCliProcess(
        ['restore', manifest.id, '--storage', target.url, '--target-url', pg.url('no_identity'), '--create', '--identity-file', path.join(dir, 'no-such-key.txt')],
        target.env,
      );
      assert.equal(unreadable.code, 1, unreadable.stderr);
      assert.match(unreadable.stderr, /--identity-file .*no-such-key\.txt cannot be read \(ENOENT\)/);
      const dbs = await pg.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname = 'no_identity'`);
      assert.deepEqual(dbs, [], 'nothing was restored');
    });

    test('a storage outage in the middle of the upload: exit 1, no manifest, nothing new in the bucket', async () => {
      const storage = await target.open();
      const before = await allKeys(storage);
      target.proxy.arm(40 * MiB, target.uploadRequest);
      try {
        const r = await runCliProcess(
          ['backup', '--storage', target.url, '--database-url', pg.url('big'), '--class', 'manual'],
          target.faultyEnv,
        );
        assert.equal(r.code, 1, r.stderr);
        assert.equal(finalEvent(r.stderr)?.event, 'backup.failed');
        // The storage failure itself is reported (not a consequence such as a closed pipe).
        assert.match(r.stderr, /(S3|GCS) upload of \S+dump\.pgc\.zst failed/);
        assert.ok(target.proxy.cuts() > 0, 'the proxy really cut an upload');
      } finally {
        target.proxy.disarm();
      }
      assert.deepEqual(await allKeys(storage), before, 'neither a payload nor a manifest was published');
      const pending = await target.pendingUploads?.();
      if (pending) assert.deepEqual(pending, [], 'the multipart upload was aborted');
    });
  });
}
