import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { treeBytesRead } from '../../runner/pipeline/child-io';

test('treeBytesRead counts what a process and its children read (pg_restore -j reads through workers)', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-io-'));
  const file = path.join(dir, 'blob');
  writeFileSync(file, Buffer.alloc(4 << 20, 7));
  // sh (not exec'ing thanks to "; true") → node, which reads the file and then waits on stdin.
  const reader = `require('fs').readFileSync(process.argv[1]); console.log('read'); process.stdin.once('data', () => process.exit(0))`;
  const child = spawn('sh', ['-c', `"${process.execPath}" -e "$1" "$0"; true`, file, reader], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const bytes = treeBytesRead(child.pid!);
    assert.ok(bytes !== null && bytes >= 4 << 20, `read ${bytes} bytes`);
  } finally {
    child.stdin.end('\n');
    await new Promise((r) => child.once('close', r));
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(treeBytesRead(2 ** 22 + 12345), null, 'a process that is not there');
});
