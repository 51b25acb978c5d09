/**
 * An S3 emulator in its own process, for the benchmark: `tsx bench/s3-server.ts [s3rver|moto|sink] BUCKET`. Prints
 * one JSON line `{ "endpoint", "env", "pid" }` when ready and stops when its stdin closes or on SIGTERM.
 *
 * Why a separate process: in the benchmark's own process, s3rver's work (MD5 of every part, writing parts,
 * concatenating them on completion) would share an event loop with the RSS sampler, and its CPU could not be
 * told apart from the bench's. Here the emulator's CPU time can be read from /proc and reported next to the
 * S3 figures, so the reader sees how much of the S3 wall time is the emulator itself.
 */
import { startMoto, startS3rver } from '../test/harness/s3';
import { startS3Sink } from './s3-sink';

async function main(): Promise<void> {
  const [kind = 's3rver', bucket = 'bench'] = process.argv.slice(2);
  if (kind === 'sink') {
    // Dummy keys for the SDK's default chain: the sink checks no signatures.
    const sink = await startS3Sink();
    process.stdin.on('end', () => void sink.stop().finally(() => process.exit(0))).resume();
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void sink.stop().finally(() => process.exit(0)));
    const env = { AWS_ACCESS_KEY_ID: 'SINK', AWS_SECRET_ACCESS_KEY: 'SINK', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' };
    process.stdout.write(`${JSON.stringify({ endpoint: sink.endpoint, env, pid: process.pid })}\n`);
    return;
  }
  if (kind !== 's3rver' && kind !== 'moto') throw new Error(`expected s3rver, moto or sink, got "${kind}"`);
  const emu = kind === 'moto' ? await startMoto() : await startS3rver();
  await emu.createBucket(bucket);
  const stop = (): void => {
    void emu.stop().finally(() => process.exit(0));
  };
  process.stdin.on('end', stop).on('close', stop).resume();
  // Ctrl-C reaches this process too: stop cleanly, so no objects are left behind in /dev/shm.
  process.on('SIGTERM', stop).on('SIGINT', stop);
  process.stdout.write(`${JSON.stringify({ endpoint: emu.endpoint, env: emu.env, pid: process.pid })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`s3-server: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
