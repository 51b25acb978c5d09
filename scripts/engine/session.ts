/**
 * One place the real engine runs in: a folder holding a local file backend, a private PULUMI_HOME and a project
 * folder that mirrors the repository's project through symlinks. Pulumi writes a stack's `encryptionsalt` (and
 * any `-c key=value` given to `up`) into Pulumi.<stack>.yaml; the mirror takes those writes on a copy, so the
 * committed stack files never change. Nothing here reaches a network: automatic plugin downloads and update
 * checks are off, and the providers on PATH are the test doubles (plugins.ts).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { enginePaths, engineMissing, REPO_ROOT } from './paths';

/** Passphrase of the throwaway local backends when PULUMI_CONFIG_PASSPHRASE is not set: they hold no real secret. */
export const LOCAL_PASSPHRASE = 'lifeboat-engine-local-state';

export interface EngineSession {
  stateDir: string;
  backendDir: string;
  projectDir: string;
  env: NodeJS.ProcessEnv;
  /** The policy pack passed to preview and up (`--policy-pack`). */
  policyPack: string;
}

/** Repository entries the mirrored project needs: the program, its dependencies and its TypeScript settings. */
const LINKED = ['infra', 'node_modules', 'package.json', 'tsconfig.json'];

export function openSession(stateDir: string): EngineSession {
  const missing = engineMissing();
  if (missing) throw new Error(missing);
  const p = enginePaths();
  const backendDir = path.join(stateDir, 'backend');
  const projectDir = path.join(stateDir, 'project');
  const home = path.join(stateDir, 'home');
  for (const d of [backendDir, projectDir, home]) mkdirSync(d, { recursive: true });
  for (const entry of LINKED) {
    const link = path.join(projectDir, entry);
    if (!existsSync(link)) symlinkSync(path.join(REPO_ROOT, entry), link);
  }
  copyFileSync(path.join(REPO_ROOT, 'Pulumi.yaml'), path.join(projectDir, 'Pulumi.yaml'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: [p.bin, path.dirname(process.execPath), process.env.PATH ?? ''].join(path.delimiter),
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_HOME: home,
    PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? LOCAL_PASSPHRASE,
    PULUMI_SKIP_UPDATE_CHECK: '1',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: '1',
    PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: 'true',
  };
  // A local run must never talk to Pulumi Cloud, whatever the caller's environment says.
  delete env.PULUMI_ACCESS_TOKEN;
  delete env.PULUMI_IGNORE_AMBIENT_PLUGINS;
  delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
  return { stateDir, backendDir, projectDir, env, policyPack: path.join(REPO_ROOT, 'policies') };
}

/**
 * Copies the committed Pulumi.<stack>.yaml into the mirror (or writes `config`, a stack file's content, for a
 * stack that exists only in a test), keeping the salt Pulumi wrote into an earlier copy (without it the stack's
 * secrets could not be read back), then selects the stack, creating it when new.
 */
export function prepareStack(s: EngineSession, stack: string, config?: Record<string, unknown>): void {
  const source = path.join(REPO_ROOT, `Pulumi.${stack}.yaml`);
  if (!config && !existsSync(source)) throw new Error(`no stack file Pulumi.${stack}.yaml in the repository for stack "${stack}"`);
  const target = path.join(s.projectDir, `Pulumi.${stack}.yaml`);
  const doc = config ? { ...config } : (YAML.parse(readFileSync(source, 'utf8')) as Record<string, unknown>);
  if (existsSync(target)) {
    const salt = (YAML.parse(readFileSync(target, 'utf8')) as Record<string, unknown> | null)?.encryptionsalt;
    if (salt) doc.encryptionsalt = salt;
  }
  writeFileSync(target, YAML.stringify(doc));
  const r = pulumi(s, ['stack', 'select', '--create', stack], { capture: true });
  if (r.status !== 0) throw new Error(`pulumi stack select --create ${stack} failed: ${r.stderr || r.stdout}`);
}

/** The example stacks: every Pulumi.<stack>.yaml committed at the repository's root. */
export function exampleStacks(): string[] {
  return readdirSync(REPO_ROOT)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

export interface PulumiRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in the mirrored project; `capture` collects its output instead of showing it. */
export function pulumi(s: EngineSession, args: string[], opts: { capture?: boolean } = {}): PulumiRun {
  const r: SpawnSyncReturns<string> = spawnSync(enginePaths().pulumi, [...args, '--non-interactive', '--color', 'never'], {
    cwd: s.projectDir,
    env: s.env,
    encoding: 'utf8',
    stdio: opts.capture ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The stack's state file in the file backend (what `no secret in plain text` is checked against). */
export function stateFile(s: EngineSession, stack: string): string {
  return path.join(s.backendDir, '.pulumi', 'stacks', 'lifeboat', `${stack}.json`);
}
