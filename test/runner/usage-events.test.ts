/**
 * A run refused for bad usage still ends with its command's failure event (the infra alerts on them), for every
 * command the CLI has: the table of usage events in runner/cli/main.ts must not fall behind the command list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from 'commander';
import { buildProgram } from '../../runner/cli/main';
import { ALL_EVENT_NAMES } from '../../runner/contract/events';
import { silentLogger } from '../../runner/log';
import { runCli } from './cli-harness';

function commandPaths(): string[][] {
  const ctx = { env: {}, stdout: process.stdout, stderr: process.stderr, logger: silentLogger(), now: () => new Date(), signal: new AbortController().signal };
  const program = buildProgram(ctx as unknown as Parameters<typeof buildProgram>[0], () => undefined);
  const out: string[][] = [];
  const walk = (c: Command, prefix: string[]): void => {
    for (const sub of c.commands) {
      if (sub.commands.length) walk(sub, [...prefix, sub.name()]);
      else out.push([...prefix, sub.name()]);
    }
  };
  walk(program, []);
  return out;
}

test('every command refused for an unknown flag exits 2 and ends with its own failure event', async () => {
  const paths = commandPaths();
  assert.ok(paths.length >= 11, `found ${paths.length} commands`);
  for (const words of paths) {
    const r = await runCli([...words, '--no-such-flag']);
    assert.equal(r.code, 2, `${words.join(' ')}: ${r.stderr}`);
    const events = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => (JSON.parse(l) as { event?: string }).event)
      .filter((e): e is string => e !== undefined);
    assert.equal(events.length, 1, `${words.join(' ')} ends with one event: ${r.stderr}`);
    const event = events[0]!;
    assert.ok((ALL_EVENT_NAMES as readonly string[]).includes(event), event);
    assert.ok(event.startsWith(`${words.join('.')}.`), `${words.join(' ')} ends with ${event}`);
    assert.match(event, /\.(failed|unhealthy)$/);
  }
});
