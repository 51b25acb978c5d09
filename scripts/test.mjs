#!/usr/bin/env node
// `npm test`: typecheck, lint, then every test file under test/ with Node's test runner (through tsx).
// Node 20's --test does not expand globs or pick up .ts files, so the file list is built here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const onlyUnit = args.includes('--only-unit');
const filters = args.filter((a) => !a.startsWith('--'));

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'fixtures') continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...walk(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

function run(cmd, argv) {
  console.log(`\n$ ${cmd} ${argv.join(' ')}`);
  const r = spawnSync(cmd, argv, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

let files = walk('test').sort();
if (onlyUnit) files = files.filter((f) => !f.includes('.int.test.ts'));
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

if (!filters.length) {
  run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']);
  run('npx', ['eslint', '.']);
}
const concurrency = process.env.LIFEBOAT_TEST_CONCURRENCY ?? '3';
run(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files]);
