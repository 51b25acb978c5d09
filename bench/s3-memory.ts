/**
 * `npx tsx bench/s3-memory.ts [MiB]`: peak RSS of the runner's node process while it streams MiB (default 600)
 * into S3 (s3rver in its own process) for several part sizes and queue depths, and into GCS's chunked resumable
 * upload (the protocol double of test/storage/gcs-resumable-server.ts, in this process) for two chunk sizes,
 * next to the same stream written to local storage. It isolates what the cloud upload paths add to a backup's
 * memory; figures, not assertions. The source imitates a dump coming through a pipe: fresh 64 KiB buffers.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { buildRunner, DIST, RUNNER_NODE_OPTIONS } from './build';
import { measure } from './measure';
import { startExternalS3 } from './s3-emulator';
import { startFakeGcs } from '../test/storage/gcs-resumable-server';

const log = (s: string): void => void process.stderr.write(`${s}\n`);

function script(storage: string, mib: number): string {
  return `
const { openStorage } = require(${JSON.stringify(path.join(DIST, 'runner/storage/open.js'))});
const { Readable } = require('node:stream');
const { randomBytes } = require('node:crypto');
const base = randomBytes(1 << 20);
const total = ${mib} * (1 << 20);
let sent = 0;
const body = new Readable({ highWaterMark: 1 << 16, read() {
  if (sent >= total) return void this.push(null);
  const off = sent % base.length;
  this.push(Buffer.from(base.subarray(off, off + (1 << 16))));
  sent += 1 << 16;
} });
openStorage(${JSON.stringify(storage)}, { s3Endpoint: process.env.LIFEBOAT_S3_ENDPOINT, env: process.env })
  .then((s) => s.put('mem/' + Date.now() + '.bin', body))
  .then((r) => { if (r.bytes !== total) throw new Error('short upload ' + r.bytes); })
  .catch((e) => { console.error(e); process.exit(1); });
`;
}

async function main(): Promise<void> {
  const mib = Number(process.argv[2] ?? 600);
  buildRunner(log);
  const s3 = await startExternalS3('s3rver', 'bench');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-s3mem-'));
  const rows: { label: string; wall: number; rss: number; emulatorCpu?: number }[] = [];
  try {
    const local = await measure('local', [process.execPath, '-e', script(dir, mib)], { env: { PATH: process.env.PATH, NODE_OPTIONS: RUNNER_NODE_OPTIONS } });
    if (local.exitCode !== 0) throw new Error(local.stderrTail);
    rows.push({ label: `local storage, ${mib} MiB`, wall: local.wallSeconds, rss: local.maxProcessRssMiB });
    for (const [part, queue] of [[16, 2], [8, 2], [6, 2], [8, 1], [5, 2], [5, 4]] as const) {
      const env = { PATH: process.env.PATH, NODE_OPTIONS: RUNNER_NODE_OPTIONS, ...s3.env, LIFEBOAT_S3_ENDPOINT: s3.endpoint, LIFEBOAT_S3_PART_SIZE_MIB: String(part), LIFEBOAT_S3_QUEUE_SIZE: String(queue) };
      const cpu0 = s3.cpuSeconds();
      const f = await measure('s3', [process.execPath, '-e', script('s3://bench/mem', mib)], { env });
      if (f.exitCode !== 0) throw new Error(f.stderrTail);
      rows.push({ label: `S3 part ${part} MiB x queue ${queue}`, wall: f.wallSeconds, rss: f.maxProcessRssMiB, emulatorCpu: Math.round((s3.cpuSeconds() - cpu0) * 100) / 100 });
      log(`  ${rows.at(-1)!.label}: ${f.maxProcessRssMiB} MiB`);
    }
    const gcs = await startFakeGcs();
    try {
      for (const chunk of [16, 8]) {
        const env = { PATH: process.env.PATH, NODE_OPTIONS: RUNNER_NODE_OPTIONS, STORAGE_EMULATOR_HOST: gcs.host, GOOGLE_CLOUD_PROJECT: 'bench', LIFEBOAT_GCS_CHUNK_SIZE_MIB: String(chunk) };
        const f = await measure('gcs', [process.execPath, '-e', script('gs://bench/mem', mib)], { env });
        if (f.exitCode !== 0) throw new Error(f.stderrTail);
        gcs.objects.clear();
        rows.push({ label: `GCS chunk ${chunk} MiB`, wall: f.wallSeconds, rss: f.maxProcessRssMiB });
        log(`  ${rows.at(-1)!.label}: ${f.maxProcessRssMiB} MiB`);
      }
    } finally {
      await gcs.stop();
    }
  } finally {
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`${''.padEnd(28)}  ${'wall s'.padStart(7)}  ${'node peak RSS MiB'.padStart(18)}  ${'emulator cpu s'.padStart(14)}`);
  for (const r of rows) {
    console.log(`${r.label.padEnd(28)}  ${r.wall.toFixed(2).padStart(7)}  ${r.rss.toFixed(1).padStart(18)}  ${(r.emulatorCpu?.toFixed(2) ?? '').padStart(14)}`);
  }
}

main().catch((e: unknown) => {
  console.error(`s3-memory failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
