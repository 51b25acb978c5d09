/**
 * Helpers for the tests that run the real Pulumi engine (scripts/engine) on the example stacks. A missing engine
 * FAILS the test, naming the command that builds it; every test gets its own file backend in a temp folder.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { engineMissing } from '../../scripts/engine/paths';
import { openSession, pulumi, type EngineSession, type PulumiRun } from '../../scripts/engine/session';

/** A fresh engine session in a temp folder, removed by the returned cleanup. Fails when the engine is not built. */
export function engineSession(): { session: EngineSession; cleanup: () => void } {
  const missing = engineMissing();
  if (missing) assert.fail(`${missing}. .ci/run builds it before the tests.`);
  const dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-engine-test-'));
  return { session: openSession(dir), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The last lines of a run's output, for assertion messages (the engine never prints secret values). */
export function tail(r: PulumiRun, lines = 40): string {
  return `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-lines).join('\n');
}

/** Runs pulumi and asserts it exited 0. */
export function ok(s: EngineSession, args: string[], what: string): PulumiRun {
  const r = pulumi(s, args, { capture: true });
  assert.equal(r.status, 0, `${what} failed (exit ${r.status}):\n${tail(r)}`);
  return r;
}

export function policyArgs(s: EngineSession): string[] {
  return ['--policy-pack', s.policyPack];
}

/** `pulumi preview --json`'s change summary, e.g. { same: 55 } or { create: 3 }. */
export function changeSummary(r: PulumiRun): Record<string, number> {
  const doc = JSON.parse(r.stdout) as { changeSummary?: Record<string, number> };
  return doc.changeSummary ?? {};
}

const SECRET_SIG = '4dabf18193072939515e22adb298388d';

/** Every string inside a value (secrets may hold objects: a password inside a connection URL object). */
function strings(v: unknown, out: string[]): void {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) strings(x, out);
}

/**
 * The plain text of every secret in a stack's state, from `pulumi stack export --show-secrets` (which decrypts
 * them): secret config, generated passwords, secret reads. Short strings (booleans, "1") are left out: they would
 * match anywhere and are no secret.
 */
export function secretPlaintexts(s: EngineSession, stack: string): string[] {
  const r = ok(s, ['stack', 'export', '--show-secrets', '--stack', stack], `pulumi stack export --stack ${stack}`);
  const found: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o[SECRET_SIG] !== undefined && typeof o.plaintext === 'string') strings(JSON.parse(o.plaintext), found);
      else Object.values(o).forEach(walk);
    }
  };
  walk(JSON.parse(r.stdout));
  return [...new Set(found.filter((x) => x.length >= 8))];
}
