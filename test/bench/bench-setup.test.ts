// The bench's own set-up: which Node runs the runner, and where the S3 emulators keep their objects.
import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import { compareVersions, imageNodeVersion, runnerNode } from '../../bench/runner-node';
import { emulatorTmpdir, SHM_NEEDED } from '../../bench/s3-emulator';
import { readDockerfile } from '../delivery/dockerfile-model';

test("the bench's runner Node is the image's version, read from runner/Dockerfile", () => {
  const version = imageNodeVersion();
  assert.match(version, /^\d+\.\d+\.\d+$/);
  assert.ok(readDockerfile().globalArgs.NODE_IMAGE?.startsWith(`node:${version}-`), readDockerfile().globalArgs.NODE_IMAGE);
});

test('LIFEBOAT_BENCH_NODE chooses the runner Node outright, and its version is asked of it', () => {
  const lines: string[] = [];
  const node = runnerNode((s) => lines.push(s), { LIFEBOAT_BENCH_NODE: process.execPath });
  assert.deepEqual(node, { path: process.execPath, version: process.versions.node, imageVersion: imageNodeVersion() });
  assert.deepEqual(lines, [], 'nothing fetched');
});

test('release versions order by number, not as text (26.10.0 is newer than 26.9.0)', () => {
  assert.deepEqual(['26.10.0', '26.9.0', '26.8.2', '25.12.1'].sort(compareVersions), ['25.12.1', '26.8.2', '26.9.0', '26.10.0']);
});

test('the emulators keep their objects in /dev/shm only with room to spare, else in the temp folder', () => {
  assert.equal(emulatorTmpdir({}, SHM_NEEDED), '/dev/shm');
  assert.equal(emulatorTmpdir({}, 64 * 1024 ** 2), os.tmpdir(), "a container's default 64 MiB /dev/shm");
  assert.equal(emulatorTmpdir({}, null), os.tmpdir(), 'no writable /dev/shm');
  assert.equal(emulatorTmpdir({ LIFEBOAT_BENCH_EMULATOR_TMPDIR: '/var/tmp/emu' }, SHM_NEEDED), '/var/tmp/emu');
});
