/**
 * The runner image, checked without a Docker engine (none exists on these machines): dockerfile-utils lints it
 * with every check at error level, and structural assertions pin what a reviewer would otherwise check by eye.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { validate, ValidationSeverity, type ValidatorSettings } from 'dockerfile-utils';
import {
  DOCKERFILE_PATH,
  REPO_ROOT,
  entrypoint,
  imageEnv,
  instructionsOf,
  packagesExcludedFromImage,
  readDockerfile,
  stageArgs,
  stageNamed,
  type DockerStage,
} from './dockerfile-model';

const STRICT: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

const model = readDockerfile();
const runtime = model.finalStage;
const runText = (stage: DockerStage): string => instructionsOf(stage, 'RUN').map((r) => r.text).join('\n');

test('dockerfile-utils reports nothing, with every check at error level', () => {
  const problems = validate(model.content, STRICT).map((d) => `line ${d.range.start.line + 1}: ${String(d.message)}`);
  assert.deepEqual(problems, []);
});

test('the lint does catch mistakes (so a clean result means something)', () => {
  const broken = model.content
    .replace(/^ENTRYPOINT \[.*\]$/m, "entrypoint ['/usr/bin/tini', '--', 'node', '/app/dist/runner/cli.js']")
    .replace('WORKDIR /app', 'WORKDIR app');
  const messages = validate(broken, STRICT).map((d) => String(d.message));
  assert.ok(messages.some((m) => /uppercase/.test(m)), messages.join('; '));
  assert.ok(messages.some((m) => /single quotes/.test(m)), messages.join('; '));
  assert.ok(messages.some((m) => /absolute/.test(m)), messages.join('; '));
});

test('multi-stage: a build stage compiles the runner, the runtime stage copies only its output', () => {
  assert.deepEqual(model.stages.map((s) => s.name), ['build', 'deps', 'pgdg-key', 'runtime']);
  const build = stageNamed(model, 'build');
  assert.match(runText(build), /npx tsc -p runner\/tsconfig\.build\.json/);
  assert.ok(existsSync(path.join(REPO_ROOT, 'runner', 'tsconfig.build.json')));
  const copies = instructionsOf(runtime, 'COPY');
  assert.ok(copies.some((c) => c.flags.from === 'build' && c.args[0] === '/src/dist'), 'runtime copies /src/dist');
  // Nothing from the build context reaches the runtime stage directly: sources and dev tools stay behind.
  assert.deepEqual(copies.filter((c) => !c.flags.from).map((c) => c.text), []);
});

test('the base image is a Node.js LTS slim image pinned to an exact release, in every stage', () => {
  const ref = model.globalArgs.NODE_IMAGE;
  assert.ok(ref, 'ARG NODE_IMAGE before the first FROM');
  const m = /^node:(\d+)\.(\d+)\.(\d+)-([a-z]+)-slim$/.exec(ref);
  assert.ok(m, `NODE_IMAGE ${ref} is node:<major>.<minor>.<patch>-<debian>-slim`);
  const major = Number(m[1]);
  // Even majors are the LTS lines; 26 is the Active LTS line as of 2026-10-28.
  assert.equal(major % 2, 0, `Node ${major} is not an LTS line`);
  assert.ok(major >= 26, `Node ${major} is older than the current LTS line (26)`);
  for (const s of model.stages) assert.equal(s.from, '${NODE_IMAGE}', `stage ${s.name} FROM ${s.from}`);
});

test('no ADD (so no remote URLs fetched without verification); downloads verify what they fetch', () => {
  for (const s of model.stages) assert.deepEqual(instructionsOf(s, 'ADD'), [], `ADD in stage ${s.name}`);
  const key = stageNamed(model, 'pgdg-key');
  const fpr = stageArgs(key).PGDG_KEY_FINGERPRINT;
  // The PostgreSQL project's published fingerprint of the apt.postgresql.org signing key (ACCC4CF8).
  assert.equal(fpr, 'B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8');
  const text = runText(key);
  assert.match(text, /curl -fsSL --proto '=https'[^\n]*https:\/\/www\.postgresql\.org\/media\/keys\/ACCC4CF8\.asc/);
  assert.match(text, /grep -qx "\$\{PGDG_KEY_FINGERPRINT\}"/, 'the fetched key is refused unless its fingerprint matches');
});

test('PostgreSQL client tools 13 to 18 come from the PGDG repository, signed by the verified key', () => {
  const majors = stageArgs(runtime).PG_MAJORS?.split(/\s+/).map(Number);
  assert.deepEqual(majors, [13, 14, 15, 16, 17, 18]);
  const text = runText(runtime);
  assert.match(text, /URIs: https:\/\/apt\.postgresql\.org\/pub\/repos\/apt/);
  assert.match(text, /Suites: %s-pgdg/);
  assert.match(text, /Signed-By: \/usr\/share\/keyrings\/postgresql-pgdg\.gpg/);
  assert.match(text, /for major in \$\{PG_MAJORS\}; do pkgs\+=\("postgresql-client-\$\{major\}"\)/);
  // The build fails if any major's pg_dump is missing, rather than shipping an image without it.
  assert.match(text, /"\/usr\/lib\/postgresql\/\$\{major\}\/bin\/pg_dump" --version/);
  assert.doesNotMatch(text, /postgresql-\d+(\s|$)/, 'no server packages');
  const copyKey = instructionsOf(runtime, 'COPY').find((c) => c.flags.from === 'pgdg-key');
  assert.equal(copyKey?.args[1], '/usr/share/keyrings/postgresql-pgdg.gpg');
});

test('redis-tools, redis-server (the RDB loader), zstd and tini are installed; every apt install is lean and cleans its lists', () => {
  const text = runText(runtime);
  for (const pkg of ['redis-tools', 'redis-server', 'zstd', 'tini', 'ca-certificates']) {
    assert.match(text, new RegExp(`apt-get install[^\\n]*\\b${pkg}\\b`), `${pkg} installed`);
  }
  for (const s of model.stages) {
    for (const run of instructionsOf(s, 'RUN')) {
      if (!/apt-get install/.test(run.text)) continue;
      for (const install of run.text.match(/apt-get install[^&]*/g) ?? []) {
        assert.match(install, /--no-install-recommends/, `line ${run.line}: ${install}`);
        assert.match(install, /\s-y\s/, `line ${run.line}: ${install}`);
      }
      assert.match(run.text, /rm -rf \/var\/lib\/apt\/lists\/\*/, `line ${run.line} leaves apt lists behind`);
    }
  }
  const shell = instructionsOf(runtime, 'SHELL')[0];
  assert.deepEqual(shell?.args, ['/bin/bash', '-o', 'pipefail', '-c'], 'pipes in RUN fail the build');
});

test('runs as a fixed non-root UID that the image creates', () => {
  const users = instructionsOf(runtime, 'USER');
  const user = users[users.length - 1]?.text;
  assert.equal(user, '10001:10001', 'numeric, so Kubernetes runAsNonRoot can verify it');
  assert.match(runText(runtime), /useradd --system --uid 10001 --gid lifeboat/);
  assert.match(runText(runtime), /groupadd --system --gid 10001 lifeboat/);
  const lastUserIndex = runtime.instructions.lastIndexOf(users[users.length - 1]!);
  const afterUser = runtime.instructions.slice(lastUserIndex + 1).map((i) => i.keyword);
  assert.ok(!afterUser.includes('RUN') && !afterUser.includes('USER'), `after USER: ${afterUser.join(', ')}`);
  // App files are root-owned: the runner's UID cannot modify its own code.
  for (const c of instructionsOf(runtime, 'COPY').filter((x) => x.args[1]?.startsWith('./'))) {
    assert.equal(c.flags.chown, 'root:root', `line ${c.line}`);
  }
});

test('works with a read-only root filesystem: temp files go to the /tmp volume', () => {
  const env = imageEnv(model);
  assert.equal(env.TMPDIR, '/tmp');
  assert.equal(env.LIFEBOAT_TMPDIR, '/tmp');
  assert.equal(env.NODE_ENV, 'production');
  assert.ok(env.HOME && env.HOME !== '/', 'HOME is set (to a read-only place nothing writes to)');
  const volumes = instructionsOf(runtime, 'VOLUME').flatMap((v) => v.args);
  assert.ok(volumes.includes('/tmp'), `VOLUME ${volumes.join(' ')}`);
});

test("the image's NODE_OPTIONS keep V8's young generation small, and node accepts them there", () => {
  const env = imageEnv(model);
  const semi = /--max-semi-space-size=(\d+)/.exec(env.NODE_OPTIONS ?? '');
  assert.ok(semi, `NODE_OPTIONS sets --max-semi-space-size, got "${env.NODE_OPTIONS ?? ''}"`);
  // Above 1 MiB, S3 backups fell into a full-GC spiral (the Dockerfile's comment says why).
  assert.ok(Number(semi[1]) <= 1, `--max-semi-space-size expected at most 1 (MiB), got ${semi[1]}`);
  // node refuses to start (exit 9) when NODE_OPTIONS carries a flag it does not allow there.
  const r = spawnSync(process.execPath, ['-e', '0'], { env: { PATH: process.env.PATH, NODE_OPTIONS: env.NODE_OPTIONS }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const bad = spawnSync(process.execPath, ['-e', '0'], { env: { PATH: process.env.PATH, NODE_OPTIONS: `${env.NODE_OPTIONS} --stack-size=100` }, encoding: 'utf8' });
  assert.notEqual(bad.status, 0, 'the check above can fail');
});

test('an init process is PID 1 and the runner CLI is the entrypoint', () => {
  const ep = entrypoint(model);
  assert.deepEqual(ep.slice(0, 2), ['/usr/bin/tini', '--'], 'tini forwards signals and reaps pg_dump');
  assert.ok(!ep.includes('-g'), 'signals go to node only: the runner stops its own children');
  assert.equal(ep[2], 'node');
  // The entry file is where tsc puts runner/cli.ts with runner/tsconfig.build.json, under WORKDIR /app.
  assert.equal(ep[3], '/app/dist/runner/cli.js');
  assert.deepEqual(instructionsOf(runtime, 'WORKDIR').map((w) => w.text), ['/app']);
  assert.ok(existsSync(path.join(REPO_ROOT, 'runner', 'cli.ts')));
  assert.deepEqual(instructionsOf(runtime, 'STOPSIGNAL').map((s) => s.text), ['SIGTERM']);
  assert.deepEqual(instructionsOf(runtime, 'CMD').map((c) => c.args), [['--help']]);
});

test('OCI labels describe the image; the licence matches package.json', () => {
  const labels: Record<string, string> = {};
  for (const l of instructionsOf(runtime, 'LABEL')) {
    for (const m of l.text.matchAll(/([\w.-]+)="([^"]*)"/g)) labels[m[1]!] = m[2]!;
  }
  for (const key of ['title', 'description', 'source', 'licenses', 'version', 'revision', 'created']) {
    assert.ok(`org.opencontainers.image.${key}` in labels, `label org.opencontainers.image.${key}`);
  }
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { license: string };
  assert.equal(labels['org.opencontainers.image.licenses'], pkg.license);
  assert.equal(labels['org.opencontainers.image.revision'], '${REVISION}');
  assert.equal(labels['org.opencontainers.image.version'], '${VERSION}');
});

test('the image leaves out only tooling packages that are real dependencies of the repository', () => {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const excluded = packagesExcludedFromImage(model);
  assert.ok(excluded.includes('@pulumi/pulumi') && excluded.includes('typescript'), excluded.join(' '));
  for (const name of excluded) assert.ok(name in pkg.dependencies, `${name} is not in dependencies`);
});

test('.dockerignore is an allow-list that lets through exactly what the Dockerfile copies', () => {
  const lines = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  assert.equal(lines[0], '*', 'everything is excluded first');
  const allowed = lines.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
  const fromContext = model.stages
    .flatMap((s) => instructionsOf(s, 'COPY'))
    .filter((c) => !c.flags.from)
    .flatMap((c) => c.args.slice(0, -1))
    .map((src) => src.replace(/\/$/, ''));
  assert.ok(fromContext.length >= 4, fromContext.join(' '));
  for (const src of fromContext) {
    assert.ok(allowed.includes(src), `${src} is copied but .dockerignore does not let it through`);
    assert.ok(existsSync(path.join(REPO_ROOT, src)), `${src} does not exist`);
  }
  for (const secretish of ['.git', 'node_modules', '.lifeboat', '.env', 'Pulumi.prod.yaml']) {
    assert.ok(!allowed.some((a) => a === secretish || secretish.startsWith(`${a}/`)), `${secretish} let through`);
  }
});

test('the Dockerfile path the pipelines build is the one tested here', () => {
  assert.equal(path.relative(REPO_ROOT, DOCKERFILE_PATH), path.join('runner', 'Dockerfile'));
});

test('the infra runs the image as the image expects: same UID, same /tmp, same entry file', async () => {
  // The AWS and Kubernetes adapters set runAsUser, the scratch volume and (on ECS) the entry point themselves.
  const { RUNNER_UID, RUNNER_TMP_DIR } = await import('../../infra/shared/taskPlan');
  const users = instructionsOf(runtime, 'USER');
  assert.equal(users[users.length - 1]?.text, `${RUNNER_UID}:${RUNNER_UID}`);
  assert.ok(instructionsOf(runtime, 'VOLUME').flatMap((v) => v.args).includes(RUNNER_TMP_DIR));
  const entryFile = entrypoint(model)[3]!;
  const infraFiles = (readdirSync(path.join(REPO_ROOT, 'infra'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
  let mentions = 0;
  for (const f of infraFiles) {
    for (const m of readFileSync(path.join(REPO_ROOT, 'infra', f), 'utf8').matchAll(/\/app\/[\w./-]+\.js/g)) {
      mentions++;
      assert.equal(m[0], entryFile, `infra/${f} starts ${m[0]}, the image's entry file is ${entryFile}`);
    }
  }
  assert.ok(mentions > 0, 'the ECS task definitions name the entry file');
});
