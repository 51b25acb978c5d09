/**
 * The deployment examples, without a container engine: deploy/compose.yaml's `lifeboat` service run as its
 * container would run it (the image's entrypoint, built as the Dockerfile builds it, with the service's command,
 * environment, secrets and volumes mapped onto temp folders, as a non-root user) against a real PostgreSQL: its
 * schedule file is valid, a backup missed while it was down runs at start, the service's healthcheck passes, and
 * SIGTERM stops it with exit 0. The systemd unit passes `systemd-analyze verify`, and that check does fail on a
 * broken unit.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { requireOnPath } from '../harness/binaries';
import { freePort } from '../harness/ports';
import { REPO_ROOT } from './dockerfile-model';
import { buildRunnerLikeImage, collect, jobEnv, jobUser, jsonLines, startEntrypoint, type RunnerBuild } from './runner-build';

interface ComposeService {
  command: string[];
  environment: Record<string, string>;
  secrets: string[];
  volumes: string[];
  healthcheck: { test: string[] };
  stop_grace_period: string;
}

const compose = parse(readFileSync(path.join(REPO_ROOT, 'deploy/compose.yaml'), 'utf8')) as {
  services: Record<string, ComposeService>;
  secrets: Record<string, { file: string }>;
};
const service = compose.services.lifeboat!;

let build: RunnerBuild;
let pg: PgCluster;
let work: string;

/** A folder the container's user may write to. */
function ownedDir(p: string): string {
  mkdirSync(p, { recursive: true });
  const { uid, gid } = jobUser();
  if (uid !== undefined) chownSync(p, uid, gid!);
  return p;
}

before(async () => {
  requireOnPath('tini', 'tini');
  build = buildRunnerLikeImage();
  work = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-compose-'));
  chmodSync(work, 0o755);
  pg = await startPostgres({ password: `Compose/${Math.random().toString(36).slice(2, 8)}@pw` });
  await pg.createDatabase('app');
  await pg.query('CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, md5(g::text) FROM generate_series(1, 300) g;', 'app');
});

after(async () => {
  await pg?.stop();
  build?.remove();
  if (work) rmSync(work, { recursive: true, force: true });
});

test("compose's lifeboat service runs the scheduler from the image's entrypoint, healthy, and stops on SIGTERM", async () => {
  // Mounts: each container path the service uses, onto a temp folder (volumes) or file (secrets, bind mounts).
  const mounts = new Map<string, string>();
  for (const v of service.volumes) {
    const [from, to] = v.split(':') as [string, string];
    if (from.startsWith('./')) {
      const text = readFileSync(path.join(REPO_ROOT, 'deploy', from), 'utf8');
      mounts.set(to, path.join(work, 'etc', path.basename(to)));
      mkdirSync(path.join(work, 'etc'), { recursive: true });
      writeFileSync(mounts.get(to)!, text);
    } else mounts.set(to, ownedDir(path.join(work, 'volumes', from)));
  }
  for (const name of service.secrets) {
    assert.ok(compose.secrets[name], `secret ${name} is declared`);
    const file = path.join(work, 'secrets', name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${pg.url('app')}\n`, { mode: 0o644 });
    mounts.set(`/run/secrets/${name}`, file);
  }
  const port = String(await freePort());
  const map = (s: string): string => {
    let out = s.replace(/\b9464\b/g, port);
    for (const [to, from] of mounts) out = out.split(to).join(from);
    return out;
  };
  // The schedule file as the container sees it, its container paths mapped like the mounts.
  const config = [...mounts].find(([to]) => to.endsWith('.yaml'))![1];
  writeFileSync(config, map(readFileSync(config, 'utf8')));
  // The backup last ran long ago: the daemon was down for its occurrences, so it runs once at start.
  const stateFile = map('/var/lib/lifeboat/schedule-state.json');
  writeFileSync(stateFile, JSON.stringify({ version: 1, jobs: { 'app/backup': { lastStartedAt: '2020-01-01T00:00:00.000Z', consecutiveFailures: 0 } } }));
  const { uid, gid } = jobUser();
  if (uid !== undefined) chownSync(stateFile, uid, gid!);

  const env = jobEnv(ownedDir(path.join(work, 'tmp')), Object.fromEntries(Object.entries(service.environment).map(([k, v]) => [k, map(v)])));
  const child = startEntrypoint(build, service.command.map(map), { env, ...jobUser(), cwd: '/' });
  const done = collect(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const backups = map('/var/lib/lifeboat/backups');
  const manifests = (): number =>
    existsSync(backups) ? readdirSync(backups, { recursive: true }).filter((f) => String(f).endsWith('manifest.json')).length : 0;
  for (let i = 0; i < 600 && manifests() === 0 && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(manifests(), 1, `the missed backup ran at start:\n${stderr.slice(-3000)}`);

  // The service's own healthcheck command, as the engine would run it inside the container.
  const [kind, cmd, ...args] = service.healthcheck.test.map(map);
  assert.equal(kind, 'CMD');
  const health = spawnSync(cmd === 'node' ? process.execPath : cmd!, args, { encoding: 'utf8', timeout: 20_000 });
  assert.equal(health.status, 0, health.stderr);

  child.kill('SIGTERM');
  const r = await done;
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const events = jsonLines(r.stderr).filter((l) => typeof l.event === 'string');
  assert.ok(events.some((e) => e.job === 'app/backup' && e.event === 'backup.succeeded'), r.stderr.slice(-3000));
  assert.equal(events[events.length - 1]!.event, 'schedule.stopped');
  assert.ok(!r.stderr.includes(pg.password), 'the database password in the output');
  // Compose gives the container longer to stop than the schedule gives its running jobs.
  const stopTimeout = /stopTimeout: (\d+)m/.exec(readFileSync(path.join(REPO_ROOT, 'deploy/lifeboat.yaml'), 'utf8'))![1];
  assert.ok(Number(/^(\d+)m$/.exec(service.stop_grace_period)![1]) > Number(stopTimeout));
});

test('the systemd unit passes systemd-analyze verify, which fails a broken one', () => {
  requireOnPath('systemd-analyze', 'systemd');
  const unit = path.join(REPO_ROOT, 'deploy/lifeboat-schedule.service');
  const ok = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stderr.trim(), '', ok.stderr);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-unit-'));
  try {
    const broken = path.join(dir, 'lifeboat-schedule.service');
    writeFileSync(broken, readFileSync(unit, 'utf8').replace('KillMode=mixed', 'KillMode=sideways'));
    const bad = spawnSync('systemd-analyze', ['verify', broken], { encoding: 'utf8' });
    assert.match(bad.stderr, /kill mode/i);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
