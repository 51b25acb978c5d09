/**
 * The image's entrypoint command, run outside a container: the runner compiled as the Dockerfile compiles it,
 * with only the packages the image keeps, started through tini exactly as ENTRYPOINT says, as a non-root user,
 * with a job's bare environment. A real backup against a real PostgreSQL goes through it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { requireOnPath } from '../harness/binaries';
import { REPO_ROOT, packagesExcludedFromImage, readDockerfile } from './dockerfile-model';
import { buildRunnerLikeImage, jobEnv, jobUser, jsonLines, runEntrypoint, type RunnerBuild } from './runner-build';
import { VERSION } from '../../runner/cli/main';
import { EVENTS } from '../../runner/contract/events';

let build: RunnerBuild;
let pg: PgCluster;
let work: string;

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: false }) as string[];
}

/** A folder the job user may write to. */
function jobDir(name: string): string {
  const dir = path.join(work, name);
  mkdirSync(dir);
  const { uid, gid } = jobUser();
  if (uid !== undefined) chownSync(dir, uid, gid!);
  return dir;
}

before(async () => {
  // tini is the image's PID 1; the entrypoint is run through it here too.
  requireOnPath('tini', 'tini');
  build = buildRunnerLikeImage();
  work = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-entrypoint-'));
  chmodSync(work, 0o755);
  pg = await startPostgres();
  await pg.createDatabase('shop');
  await pg.query(
    `CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL, created timestamptz DEFAULT now());
     INSERT INTO customers (email) SELECT 'user' || g || '@example.com' FROM generate_series(1, 500) g;
     CREATE TABLE orders (id bigserial PRIMARY KEY, customer bigint REFERENCES customers, total numeric(12,2));
     INSERT INTO orders (customer, total) SELECT 1 + g % 500, g * 1.25 FROM generate_series(1, 2000) g;`,
    'shop',
  );
});

after(async () => {
  await pg?.stop();
  build?.remove();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('--help and --version work through tini and the compiled entry file', async () => {
  const help = await runEntrypoint(build, ['--help'], { env: jobEnv(jobDir('tmp-help')), ...jobUser(), cwd: '/' });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /Usage: lifeboat/);
  for (const command of ['backup', 'list', 'restore']) assert.match(help.stdout, new RegExp(`\\n\\s+${command}\\b`));
  const version = await runEntrypoint(build, ['--version'], { env: jobEnv(jobDir('tmp-version')), ...jobUser(), cwd: '/' });
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout.trim(), VERSION);
});

test('an unknown command exits 2 through tini (exit codes survive the init process)', async () => {
  const r = await runEntrypoint(build, ['bogus'], { env: jobEnv(jobDir('tmp-bogus')), ...jobUser(), cwd: '/' });
  assert.equal(r.code, 2, r.stderr);
});

test('the compiled runner requires only Node built-ins and production packages the image keeps', () => {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const excluded = new Set(packagesExcludedFromImage(readDockerfile()));
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  const problems: string[] = [];
  const files = listFiles(path.join(build.dir, 'dist')).filter((f) => f.endsWith('.js'));
  assert.ok(files.includes(path.join('runner', 'cli.js')), 'dist/runner/cli.js exists');
  for (const file of files) {
    const js = readFileSync(path.join(build.dir, 'dist', file), 'utf8');
    for (const m of js.matchAll(/\brequire\(["']([^"']+)["']\)|\bimport\(["']([^"']+)["']\)/g)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.') || builtins.has(spec)) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      if (!(name in pkg.dependencies)) problems.push(`${file}: ${spec} is not a production dependency`);
      else if (excluded.has(name)) problems.push(`${file}: ${spec} is removed from the image by the Dockerfile`);
    }
  }
  assert.deepEqual(problems, []);
});

test('every production dependency the image keeps is one the compiled runner requires (no Pulumi SDK as dead weight)', () => {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const excluded = new Set(packagesExcludedFromImage(readDockerfile()));
  const required = new Set<string>();
  for (const file of listFiles(path.join(build.dir, 'dist')).filter((f) => f.endsWith('.js'))) {
    const js = readFileSync(path.join(build.dir, 'dist', file), 'utf8');
    for (const m of js.matchAll(/\brequire\(["']([^"'.][^"']*)["']\)|\bimport\(["']([^"'.][^"']*)["']\)/g)) {
      const spec = (m[1] ?? m[2])!;
      required.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  const kept = Object.keys(pkg.dependencies).filter((name) => !excluded.has(name));
  assert.deepEqual(kept.filter((name) => !required.has(name)), [], 'kept in the image but never required by the runner: add them to the deps stage\'s npm uninstall');
});

test('a real backup through the entrypoint: manifest published, listed, nothing written outside storage and TMPDIR', async () => {
  const storage = jobDir('storage');
  const tmp = jobDir('tmp-backup');
  const cwd = jobDir('cwd');
  const before = listFiles(build.dir).sort();
  const env = jobEnv(tmp, { DATABASE_URL: pg.url('shop'), LIFEBOAT_STORAGE: storage });

  const backup = await runEntrypoint(build, ['backup', '--class', 'manual'], { env, ...jobUser(), cwd });
  assert.equal(backup.code, 0, backup.stderr);
  const id = backup.stdout.trim();
  assert.match(id, /^\d{8}T\d{6}Z-[0-9a-f]{4}$/);
  const events = jsonLines(backup.stderr).filter((l) => 'event' in l);
  assert.equal(events.length, 1, backup.stderr);
  assert.equal(events[0]!.event, EVENTS.backupSucceeded);
  assert.equal(events[0]!.class, 'manual');
  assert.equal(events[0]!.backupId, id);

  const list = await runEntrypoint(build, ['list', '--json'], { env, ...jobUser(), cwd });
  assert.equal(list.code, 0, list.stderr);
  const listed = JSON.parse(list.stdout) as unknown;
  const ids = JSON.stringify(listed);
  assert.ok(ids.includes(id), `list shows ${id}: ${list.stdout}`);

  const manifests = listFiles(storage).filter((f) => f.endsWith('manifest.json'));
  assert.deepEqual(manifests, [path.join('manual', 'postgres', 'shop', id, 'manifest.json')]);
  const manifest = JSON.parse(readFileSync(path.join(storage, manifests[0]!), 'utf8')) as { rowCounts?: unknown };
  assert.ok(JSON.stringify(manifest).includes('"customers"'), 'the manifest records the tables');

  // Read-only root filesystem, approximated: the app folder and the working directory are untouched.
  assert.deepEqual(listFiles(build.dir).sort(), before);
  assert.deepEqual(listFiles(cwd), []);
  for (const out of [backup.stdout, backup.stderr, list.stdout, list.stderr]) {
    assert.ok(!out.includes(pg.password), 'no password in any output');
  }
});
