/**
 * A scratch redis-server dies with the runner, even when the runner is killed outright (SIGKILL), where no
 * cleanup of its own can run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { requireOnPath } from '../harness/binaries';
import { REPO_ROOT } from '../runner/cli-harness';

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

test('a runner killed with SIGKILL takes its scratch redis-server with it', async () => {
  requireOnPath('redis-server', 'redis-server');
  requireOnPath('setpriv', 'util-linux');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-scratch-death-'));
  const script = `
    const { startScratchRedis } = require(${JSON.stringify(path.join(REPO_ROOT, 'runner', 'redis', 'scratch.ts'))});
    startScratchRedis({ dir: ${JSON.stringify(dir)} }).then((s) => { process.stdout.write(String(s.conn.port) + '\\n'); setInterval(() => {}, 1000); });
  `;
  const runner = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      runner.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) resolve(Number(out.trim()));
      });
      runner.once('exit', (code) => reject(new Error(`the runner exited (${code}) before its scratch server started`)));
    });
    assert.equal(await accepts(port), true, 'the scratch server runs');
    runner.kill('SIGKILL');
    await new Promise((r) => runner.once('exit', r));
    // The kernel delivers the parent-death signal at once; the port closes as the server dies.
    let open = true;
    for (let i = 0; i < 200 && open; i++) {
      open = await accepts(port);
      if (open) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(open, false, 'the scratch redis-server outlived the killed runner');
  } finally {
    runner.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
