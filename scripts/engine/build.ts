/**
 * Builds the Pulumi CLI from source, through the Go module proxy only, into .cache/engine/pulumi-<version>/bin.
 * `go install pkg@version` refuses it (its go.mod carries replace directives), so scripts/engine/go is a small
 * module that pins it and `go build` builds it there. Pulumi's Node.js language host cannot be built: the proxy
 * serves its module at no version; scripts/engine/language-host stands in for it (see docs/engine.md).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { enginePaths, type EnginePaths } from './paths';
import { writeNodePlugins } from './plugins';

const GO_HINT =
  'install the Go toolchain, version 1.25 or newer (the go.dev tarball unpacked into /usr/local/go, with ' +
  '/usr/local/go/bin on PATH; Debian 12\'s golang-go is too old), and let it reach the Go module proxy';

/** The `go` program: on PATH, else the usual /usr/local/go/bin/go; undefined when neither exists. */
export function findGo(): string | undefined {
  const onPath = spawnSync('sh', ['-c', 'command -v go'], { encoding: 'utf8' });
  if (onPath.status === 0 && onPath.stdout.trim()) return onPath.stdout.trim();
  return existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined;
}

export interface BuildReport {
  version: string;
  seconds: { cli: number };
  /** Peak resident memory of the largest build step in MiB, where /usr/bin/time exists to measure it. */
  peakMiB?: number;
}

function goBuild(go: string, p: EnginePaths, target: string, out: string, log: (line: string) => void): { seconds: number; peakKiB?: number } {
  const ldflags = `-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${p.version}`;
  const tmp = `${out}.partial`;
  const goArgs = ['build', '-trimpath', '-mod=readonly', '-ldflags', ldflags, '-o', tmp, target];
  const timeBin = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', 'peak-kib=%M'] : [];
  // nice: the build takes both cores for many minutes on a shared machine; -p=2 caps parallel compiles.
  const argv = ['-n', '10', ...timeBin, go, ...goArgs];
  log(`building ${path.basename(out)}: go ${goArgs.join(' ')}`);
  const started = Date.now();
  const r = spawnSync('nice', argv, {
    cwd: p.goModule,
    env: { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -p=2`.trim() },
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  const stderr = r.stderr ?? '';
  const peak = /peak-kib=(\d+)/.exec(stderr);
  process.stderr.write(stderr.replace(/peak-kib=\d+\n?/, ''));
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`go build of ${target} failed (exit ${r.status ?? r.signal}); its errors are above`);
  }
  renameSync(tmp, out);
  return { seconds, peakKiB: peak ? Number(peak[1]) : undefined };
}

/** Builds the CLI when missing (or with `force`) and writes the plugins written in TypeScript. */
export function buildEngine(opts: { force?: boolean; log?: (line: string) => void } = {}): BuildReport | undefined {
  const log = opts.log ?? ((line: string) => console.error(line));
  const p = enginePaths();
  mkdirSync(p.bin, { recursive: true });
  writeNodePlugins(p);
  if (!opts.force && existsSync(p.pulumi)) return undefined;
  const go = findGo();
  if (!go) throw new Error(`cannot build the Pulumi CLI ${p.version}: no \`go\` program found. To fix: ${GO_HINT}`);
  const cli = goBuild(go, p, 'github.com/pulumi/pulumi/pkg/v3/cmd/pulumi', p.pulumi, log);
  const report: BuildReport = {
    version: p.version,
    seconds: { cli: cli.seconds },
    peakMiB: cli.peakKiB === undefined ? undefined : Math.round(cli.peakKiB / 1024),
  };
  writeFileSync(path.join(p.dir, 'build-report.json'), JSON.stringify(report, null, 2) + '\n');
  log(`built the Pulumi CLI ${p.version} in ${cli.seconds} s (${JSON.stringify(report)})`);
  return report;
}
