/**
 * `lifeboat <command> --help` is the flag reference (the README links to it): every command has its long help,
 * every flag it takes is explained in it, and what the README used to say about each command is there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from 'commander';
import { buildProgram } from '../../runner/cli/main';
import { COMMAND_HELP } from '../../runner/cli/help-text';
import { runCli } from './cli-harness';
import { silentLogger } from '../../runner/log';

function leaves(): Map<string, Command> {
  const ctx = { env: {}, stdout: process.stdout, stderr: process.stderr, logger: silentLogger(), now: () => new Date(), signal: new AbortController().signal };
  const program = buildProgram(ctx as unknown as Parameters<typeof buildProgram>[0], () => undefined);
  const out = new Map<string, Command>();
  const walk = (c: Command, prefix: string): void => {
    for (const sub of c.commands) {
      if (sub.commands.length) walk(sub, `${prefix}${sub.name()}-`);
      else out.set(`${prefix}${sub.name()}`, sub);
    }
  };
  walk(program, '');
  return out;
}

test('every command has its long help, and every help topic is a command', () => {
  assert.deepEqual([...leaves().keys()].sort(), Object.keys(COMMAND_HELP).sort());
});

/** Flags every command shares, explained once in `lifeboat --help` (checked below). */
const SHARED = new Set(['--storage', '--s3-endpoint', '--s3-region', '--json', '--notify', '--help']);

test("each command's long help explains every flag it takes", () => {
  for (const [topic, cmd] of leaves()) {
    const text = COMMAND_HELP[topic as keyof typeof COMMAND_HELP];
    const missing = cmd.options.map((o) => o.long!).filter((f) => f && !SHARED.has(f) && !text.includes(f));
    assert.deepEqual(missing, [], `lifeboat ${topic.replace('-', ' ')} --help does not explain ${missing.join(', ')}`);
  }
});

test('`lifeboat restore --help` prints the options and what the README said about restores', async () => {
  const r = await runCli(['restore', '--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const phrase of [
    '--target-url <url>',
    'newest full backup of the source',
    'frames',
    "sha256",
    'LIFEBOAT_TMPDIR',
    'refused unless --clean --yes',
    'drops the database it created',
    'foreign key to a table left out',
    'LIFEBOAT_AGE_IDENTITY',
    'LIFEBOAT_STORAGE_IDLE_TIMEOUT_S',
    'Exit codes',
    'lifeboat restore latest',
  ]) {
    assert.ok(r.stdout.includes(phrase), `restore --help mentions ${phrase}`);
  }
});

test('`lifeboat --help` explains the environment, storage URLs and exit codes every command shares', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const phrase of ['LIFEBOAT_STORAGE', 'DATABASE_URL', 'gs://', 's3://', '--s3-endpoint', '--s3-region', '--json', 'Exit codes: 0 success, 1 failure', '2 bad usage']) {
    assert.ok(r.stdout.includes(phrase), `lifeboat --help mentions ${phrase}`);
  }
});

test('each command help names the README-era facts of its command', async () => {
  const facts: Record<string, string[]> = {
    backup: ['--encrypt-to', 'LIFEBOAT_AGE_RECIPIENTS', '--prefer-replica', 'hot_standby_feedback', 'manifest is written last'],
    list: ['newest first'],
    verify: ['--restore-into', 'frame index'],
    drill: ['RPO', 'RTO', 'drills/', 'amcheck', 'LIFEBOAT_SCRATCH_URL'],
    status: ['--max-age', '--min-ratio', 'median'],
    prune: ['dry run', '--keep-daily', 'never deleted'],
    clone: ['exported snapshot', '--jobs'],
    'redis-backup': ['--method', 'REDISCLI_AUTH'],
    'redis-restore': ['ABSTTL', '--flush'],
    'redis-verify': ['scratch redis-server'],
  };
  for (const [topic, phrases] of Object.entries(facts)) {
    const r = await runCli([...topic.split('-'), '--help']);
    assert.equal(r.code, 0, r.stderr);
    const text = r.stdout.replace(/\s+/g, ' ');
    for (const p of phrases) assert.ok(text.includes(p), `lifeboat ${topic.replace('-', ' ')} --help mentions ${p}`);
  }
});

test('a reader that goes away (lifeboat restore --help | head) ends nothing in error: exit 0, no stack trace', async () => {
  const { spawn } = await import('node:child_process');
  const path = await import('node:path');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', '..', 'runner', 'cli.ts'), 'restore', '--help'], {
    cwd: path.join(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The reader is gone before the CLI writes a byte: its first write fails with EPIPE.
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|Error/);
});
