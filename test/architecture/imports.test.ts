/**
 * The runner's architecture, held by its imports: layers that import only downwards, no import circle anywhere in
 * the program's code, `runner/commands/` holding one file per `lifeboat` command and nothing else, and no
 * command imported by anything but the CLI. docs/design.md ("Architecture") describes the same layers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../runner/cli/main';
import { silentLogger } from '../../runner/log';

const ROOT = path.resolve(__dirname, '../..');

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(ROOT, dir))) {
    // policies/ may hold its own node_modules (it installs on its own where it is copied).
    if (name === 'node_modules') continue;
    const rel = path.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory()) out.push(...tsFiles(rel));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/** Relative imports of a file (static, dynamic and re-exports), resolved to repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g)) {
    const target = path.join(path.dirname(file), m[2]!);
    const candidates = [`${target}.ts`, path.join(target, 'index.ts'), target];
    out.push(candidates.find((c) => existsSync(path.join(ROOT, c))) ?? `${target}.ts`);
  }
  return out;
}

/** Top to bottom: a file may import from its own layer or a lower one, never from a higher one. */
const LAYERS: readonly (readonly string[])[] = [
  ['runner/cli.ts', 'runner/demo.ts', 'runner/demo/'],
  ['runner/cli/'],
  ['runner/commands/'],
  ['runner/schedule/'],
  ['runner/restore/', 'runner/drill/', 'runner/retention/', 'runner/redis/', 'runner/notify/', 'runner/metrics/', 'runner/report/', 'runner/pitr/'],
  ['runner/payload/', 'runner/catalog/'],
  ['runner/pg/', 'runner/storage/', 'runner/crypto/', 'runner/pipeline/'],
  ['runner/contract/', 'runner/context.ts', 'runner/errors.ts', 'runner/log.ts', 'runner/redact.ts'],
];

function layerOf(file: string): number {
  const i = LAYERS.findIndex((l) => l.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p)));
  return i;
}

const RUNNER = tsFiles('runner');

test('every runner file belongs to a layer', () => {
  const unplaced = RUNNER.filter((f) => layerOf(f) < 0);
  assert.deepEqual(unplaced, [], 'a new folder needs its place in LAYERS (and in docs/design.md)');
});

test('no runner file imports from a layer above its own', () => {
  const upward: string[] = [];
  for (const file of RUNNER) {
    for (const dep of importsOf(file)) {
      if (!dep.startsWith('runner/')) continue;
      if (layerOf(dep) < layerOf(file)) upward.push(`${file} -> ${dep}`);
    }
  }
  assert.deepEqual(upward, []);
});

test('the runner imports nothing outside runner/ but the development demo', () => {
  const outside = RUNNER.filter((f) => f !== 'runner/demo.ts').flatMap((f) => importsOf(f).filter((d) => !d.startsWith('runner/')).map((d) => `${f} -> ${d}`));
  assert.deepEqual(outside, []);
});

test('runner/commands/ holds one file per lifeboat command, and only the CLI imports them', () => {
  const ctx = { env: {}, stdout: process.stdout, stderr: process.stderr, logger: silentLogger(), now: () => new Date(), signal: new AbortController().signal };
  const program = buildProgram(ctx as unknown as Parameters<typeof buildProgram>[0], () => undefined);
  const names: string[] = [];
  const walk = (c: Command, prefix: string): void => {
    for (const sub of c.commands) {
      if (sub.commands.length) walk(sub, `${prefix}${sub.name()}-`);
      else names.push(`${prefix}${sub.name()}`);
    }
  };
  walk(program, '');
  const files = readdirSync(path.join(ROOT, 'runner/commands')).map((f) => f.replace(/\.ts$/, '')).sort();
  assert.deepEqual(files, [...names].sort(), 'runner/commands/<command>.ts for each command, nothing else');
  const importers = RUNNER.flatMap((f) => importsOf(f).filter((d) => d.startsWith('runner/commands/')).map((d) => [f, d] as const));
  const strays = importers.filter(([f]) => !f.startsWith('runner/cli/')).map(([f, d]) => `${f} -> ${d}`);
  assert.deepEqual(strays, [], 'a command is called by the CLI; what two commands share lives in a lower layer');
});

/** Files in import circles (strongly connected components of more than one file, or a file importing itself). */
function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v)!) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)!.includes(v)) found.push(scc.sort());
    }
  };
  for (const f of graph.keys()) if (!idx.has(f)) visit(f);
  return found;
}

test('no import circle in the runner, the infra or the policies', () => {
  const files = [...RUNNER, ...tsFiles('infra'), ...tsFiles('policies')];
  const graph = new Map(files.map((f) => [f, importsOf(f).filter((d) => files.includes(d))]));
  assert.ok([...graph.values()].reduce((n, d) => n + d.length, 0) > 500, 'the graph has its edges');
  assert.deepEqual(circles(graph), []);
});

test('the circle finder finds circles, and only circles', () => {
  const graph = new Map<string, string[]>([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a', 'd']],
    ['d', []],
    ['e', ['e']],
    ['f', ['d']],
  ]);
  assert.deepEqual(circles(graph), [['a', 'b', 'c'], ['e']]);
});
