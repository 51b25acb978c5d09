/**
 * The runtime stage's package installation, run for real with bash outside a container: the Dockerfile's RUN text
 * is executed with every absolute /etc, /var and /usr path moved into a temporary root, and with `apt-get` and
 * `apt-cache` replaced by stubs that play a PGDG repository (which client majors it publishes, which ones only the
 * archive still has). What is checked is the script's behaviour: which sources it writes, what it installs, and
 * that the build fails when a major's pg_dump cannot be had.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { instructionsOf, readDockerfile, stageArgs } from './dockerfile-model';

const model = readDockerfile();
const runtime = model.finalStage;
const PG_MAJORS = stageArgs(runtime).PG_MAJORS!;

/** The runtime RUN that installs the PostgreSQL clients, with its absolute system paths moved under $ROOT. */
function installScript(): string {
  const run = instructionsOf(runtime, 'RUN').find((r) => r.text.includes('postgresql-client-'));
  assert.ok(run, 'the runtime stage installs postgresql-client-<major>');
  const script = run.text.replace(/(^|[\s"'>=(])\/(etc|var|usr)\//g, '$1${LIFEBOAT_TEST_ROOT}/$2/');
  // Safety: nothing may touch this machine's own /etc, /var or /usr.
  assert.doesNotMatch(script, /(^|[\s"'>=(])\/(etc|var|usr)\//, 'every system path is moved under the test root');
  return script;
}

// apt-get: logs its arguments; `install` fails like apt does for a client no configured suite publishes, and
// otherwise drops a pg_dump that prints its version where the real package puts it.
const APT_GET = `#!/bin/bash
echo "apt-get $*" >> "$LIFEBOAT_TEST_ROOT/apt.log"
[ "$1" = install ] || exit 0
for arg in "$@"; do
  case "$arg" in
    postgresql-client-*)
      major=\${arg#postgresql-client-}
      if ! "$(dirname "$0")/apt-cache" show "$arg" > /dev/null 2>&1; then
        echo "E: Unable to locate package $arg" >&2; exit 100
      fi
      mkdir -p "$LIFEBOAT_TEST_ROOT/usr/lib/postgresql/$major/bin"
      printf '#!/bin/sh\\necho "pg_dump (PostgreSQL) %s.0"\\n' "$major" > "$LIFEBOAT_TEST_ROOT/usr/lib/postgresql/$major/bin/pg_dump"
      chmod +x "$LIFEBOAT_TEST_ROOT/usr/lib/postgresql/$major/bin/pg_dump";;
  esac
done
`;

// apt-cache show: a client is published by <codename>-pgdg unless listed in ARCHIVED (only the archive suite has
// it, once its sources file exists) or GONE (nowhere).
const APT_CACHE = `#!/bin/bash
[ "$1" = show ] || exit 0
major=\${2#postgresql-client-}
for m in $GONE; do [ "$m" = "$major" ] && exit 100; done
for m in $ARCHIVED; do
  if [ "$m" = "$major" ]; then
    grep -qs 'Suites: trixie-pgdg-archive' "$LIFEBOAT_TEST_ROOT/etc/apt/sources.list.d/pgdg-archive.sources" && exit 0
    exit 100
  fi
done
exit 0
`;

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
  aptLog: string[];
  sources: Record<string, string>;
}

function runInstall(repo: { archived?: string[]; gone?: string[] }): Outcome {
  const root = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-apt-'));
  try {
    const bin = path.join(root, 'stub-bin');
    mkdirSync(bin);
    for (const [name, body] of [['apt-get', APT_GET], ['apt-cache', APT_CACHE]] as const) {
      writeFileSync(path.join(bin, name), body);
      chmodSync(path.join(bin, name), 0o755);
    }
    mkdirSync(path.join(root, 'etc', 'apt', 'sources.list.d'), { recursive: true });
    mkdirSync(path.join(root, 'var', 'lib', 'apt', 'lists'), { recursive: true });
    writeFileSync(path.join(root, 'etc', 'os-release'), 'ID=debian\nVERSION_CODENAME=trixie\n');
    writeFileSync(path.join(root, 'apt.log'), '');
    const r = spawnSync('/bin/bash', ['-o', 'pipefail', '-c', installScript()], {
      encoding: 'utf8',
      env: {
        PATH: `${bin}:/usr/bin:/bin`,
        LIFEBOAT_TEST_ROOT: root,
        PG_MAJORS,
        ARCHIVED: (repo.archived ?? []).join(' '),
        GONE: (repo.gone ?? []).join(' '),
      },
    });
    const dir = path.join(root, 'etc', 'apt', 'sources.list.d');
    const sources: Record<string, string> = {};
    for (const f of ['pgdg.sources', 'pgdg-archive.sources']) {
      if (existsSync(path.join(dir, f))) sources[f] = readFileSync(path.join(dir, f), 'utf8');
    }
    const aptLog = readFileSync(path.join(root, 'apt.log'), 'utf8').split('\n').filter(Boolean);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, aptLog, sources };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const clients = PG_MAJORS.split(/\s+/).map((m) => `postgresql-client-${m}`);

test('every major is published: the PGDG suite only, every client installed, each pg_dump checked', () => {
  const r = runInstall({});
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(Object.keys(r.sources), ['pgdg.sources']);
  assert.match(r.sources['pgdg.sources']!, /^URIs: https:\/\/apt\.postgresql\.org\/pub\/repos\/apt$/m);
  assert.match(r.sources['pgdg.sources']!, /^Suites: trixie-pgdg$/m);
  assert.match(r.sources['pgdg.sources']!, /^Signed-By: \S*\/usr\/share\/keyrings\/postgresql-pgdg\.gpg$/m);
  const install = r.aptLog.filter((l) => l.startsWith('apt-get install') && l.includes('postgresql-client-'));
  assert.equal(install.length, 1, r.aptLog.join('\n'));
  for (const pkg of [...clients, 'redis-tools', 'redis-server', 'zstd', 'tini']) assert.ok(install[0]!.split(' ').includes(pkg), `${pkg} installed`);
  assert.equal(r.aptLog.filter((l) => l === 'apt-get update').length, 2, 'Debian, then with the PGDG suite');
  for (const m of PG_MAJORS.split(/\s+/)) assert.match(r.stdout, new RegExp(`pg_dump \\(PostgreSQL\\) ${m}\\.0`));
});

test('a major past its end of life (only in the archive): the archive suite is added, signed by the same key', () => {
  const r = runInstall({ archived: ['13'] });
  assert.equal(r.status, 0, r.stderr);
  const archive = r.sources['pgdg-archive.sources'];
  assert.ok(archive, 'pgdg-archive.sources written');
  assert.match(archive, /^URIs: https:\/\/apt-archive\.postgresql\.org\/pub\/repos\/apt$/m);
  assert.match(archive, /^Suites: trixie-pgdg-archive$/m);
  assert.match(archive, /^Signed-By: \S*\/usr\/share\/keyrings\/postgresql-pgdg\.gpg$/m);
  assert.match(r.stdout, /postgresql-client 13: not in trixie-pgdg/);
  assert.equal(r.aptLog.filter((l) => l === 'apt-get update').length, 3, 'the archive index is fetched before installing');
  const install = r.aptLog.find((l) => l.startsWith('apt-get install') && l.includes('postgresql-client-'))!;
  for (const pkg of clients) assert.ok(install.split(' ').includes(pkg), `${pkg} installed`);
  assert.match(r.stdout, /pg_dump \(PostgreSQL\) 13\.0/);
});

test('a major that neither suite has fails the build instead of shipping an image without its pg_dump', () => {
  const r = runInstall({ gone: ['13'] });
  assert.notEqual(r.status, 0, 'the build must fail');
  assert.match(r.stderr, /Unable to locate package postgresql-client-13/);
});
