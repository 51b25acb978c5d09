/**
 * The offline synth's core: evaluates the Pulumi program for one stack the way Pulumi's Node.js runtime does
 * (project and stack set, the stack's config plus the project's declared defaults, the program's main module
 * required inside the root `pulumi:pulumi:Stack` resource, its export awaited as the stack outputs), with mocks
 * instead of the engine, and records every resource registration.
 *
 * Recording happens at the monitor, not in the mocks: the mocks never see a resource's parent, dependencies or
 * provider, the monitor's RegisterResourceRequest carries all of them.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { parse as parseYaml } from 'yaml';
import { ConfigError, PROJECT, decodeConfigValues, parseConfig } from '../config/load';
import { createMocks } from './mocks';
import type { RecordedResource } from './recorded';

// The runtime's serialization helpers: the same ones the mock monitor uses to read requests.
const rpc = require('@pulumi/pulumi/runtime/rpc') as {
  deserializeProperties(s: unknown, keepUnknowns?: boolean): Record<string, unknown>;
  specialSigKey: string;
  specialSecretSig: string;
};

/** The marker a secret value is replaced with in recorded inputs and outputs. */
export const SECRET_MARK = '[secret]';

export interface SynthOptions {
  /** Folder holding Pulumi.yaml and Pulumi.<stack>.yaml; default: the repository root. */
  dir?: string;
  /** A stack file to read instead of `<dir>/Pulumi.<stack>.yaml` (test fixtures). */
  stackFile?: string;
  /** Extra or overriding config values (full keys), applied after the stack file. */
  config?: Record<string, unknown>;
  /** Evaluate as `pulumi preview` does (dry run) rather than as `pulumi up`. Default: false. */
  preview?: boolean;
}

export interface SynthResult {
  stack: string;
  resources: RecordedResource[];
  /** Stack outputs, secrets replaced by `[secret]`. */
  outputs: Record<string, unknown>;
  /** Tokens of the provider functions the program called, in order (e.g. a Secret Manager read). */
  calls: string[];
}

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

interface ProjectFile {
  name: string;
  main?: string;
  config?: Record<string, unknown>;
}

function readYaml(file: string): unknown {
  try {
    return parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(path.basename(file), [`${file}: expected a readable YAML file, got ${(e as Error).message}`]);
  }
}

function configText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function qualify(key: string, project: string): string {
  return key.includes(':') ? key : `${project}:${key}`;
}

/**
 * The config the runtime would get: the project's declared defaults, then the stack file's values (structured
 * values as JSON, as the CLI passes them). Secure (encrypted) values cannot be decrypted offline: they become a
 * placeholder marked secret.
 */
export function stackConfig(stack: string, opts: SynthOptions = {}): { project: string; main: string; config: Record<string, string>; secretKeys: string[] } {
  const dir = opts.dir ?? REPO_ROOT;
  const projectFile = readYaml(path.join(dir, 'Pulumi.yaml')) as ProjectFile;
  const project = projectFile.name;
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, decl] of Object.entries(projectFile.config ?? {})) {
    if (decl && typeof decl === 'object' && 'default' in decl) config[qualify(key, project)] = configText((decl as { default: unknown }).default);
    else if (decl && typeof decl === 'object' && 'value' in decl) config[qualify(key, project)] = configText((decl as { value: unknown }).value);
  }
  const file = opts.stackFile ?? path.join(dir, `Pulumi.${stack}.yaml`);
  if (!existsSync(file)) {
    throw new ConfigError(stack, [`stack file: expected ${path.relative(process.cwd(), file) || file} to exist, got no such file`]);
  }
  const stackFile = (readYaml(file) ?? {}) as { config?: Record<string, unknown> };
  for (const [key, value] of Object.entries(stackFile.config ?? {})) {
    const k = qualify(key, project);
    if (value && typeof value === 'object' && 'secure' in value && Object.keys(value).length === 1) {
      config[k] = 'offline-synth-placeholder';
      secretKeys.push(k);
    } else config[k] = configText(value);
  }
  for (const [key, value] of Object.entries(opts.config ?? {})) {
    if (value === undefined) delete config[qualify(key, project)];
    else config[qualify(key, project)] = configText(value);
  }
  return { project, main: projectFile.main ?? '.', config, secretKeys };
}

function isSecret(v: unknown): v is { value: unknown } {
  return !!v && typeof v === 'object' && (v as Record<string, unknown>)[rpc.specialSigKey] === rpc.specialSecretSig;
}

/** Replaces every secret value with a marked placeholder, so nothing secret is printed or handed on. */
export function maskSecrets(v: unknown): unknown {
  if (isSecret(v)) return { [rpc.specialSigKey]: rpc.specialSecretSig, value: SECRET_MARK };
  if (Array.isArray(v)) return v.map(maskSecrets);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskSecrets(x)]));
  return v;
}

function containsSecret(v: unknown): boolean {
  if (isSecret(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecret);
  if (v && typeof v === 'object') return Object.values(v).some(containsSecret);
  return false;
}

interface Req {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getObject(): unknown;
  getDependenciesList(): string[];
  getProtect(): boolean | undefined;
  getProvider(): string;
  getImportid(): string;
  getIgnorechangesList(): string[];
  getRetainondelete(): boolean | undefined;
}

type Callback = (err: unknown, resp?: { getUrn(): string }) => void;

/** Wraps the mock monitor so every registration is recorded with its parent, dependencies and provider. */
function recordRegistrations(resources: RecordedResource[], outputs: Map<string, unknown>): void {
  const monitor = (pulumi.runtime as unknown as { getMonitor(): Record<string, (...a: unknown[]) => unknown> }).getMonitor();
  const register = monitor.registerResource!.bind(monitor);
  monitor.registerResource = (req: unknown, cb: unknown) => {
    const r = req as Req;
    const inputs = rpc.deserializeProperties(r.getObject(), true);
    const record: RecordedResource = {
      urn: '',
      type: r.getType(),
      name: r.getName(),
      ...(r.getParent() ? { parent: r.getParent() } : {}),
      inputs: maskSecrets(inputs) as Record<string, unknown>,
      dependencies: [...new Set(r.getDependenciesList())],
      custom: r.getCustom(),
    };
    const secretInputs = Object.keys(inputs).filter((k) => containsSecret(inputs[k]));
    if (secretInputs.length) record.secretInputs = secretInputs;
    if (r.getProtect()) record.protect = true;
    if (r.getProvider()) record.provider = r.getProvider();
    if (r.getImportid()) record.importId = r.getImportid();
    if (r.getIgnorechangesList().length) record.ignoreChanges = r.getIgnorechangesList();
    if (r.getRetainondelete()) record.retainOnDelete = true;
    return register(req, ((err, resp) => {
      if (!err && resp) {
        record.urn = resp.getUrn();
        resources.push(record);
      }
      (cb as Callback)(err, resp);
    }) as Callback);
  };
  const registerOutputs = monitor.registerResourceOutputs!.bind(monitor);
  monitor.registerResourceOutputs = (req: unknown, cb: unknown) => {
    const r = req as { getUrn(): string; getOutputs(): unknown };
    outputs.set(r.getUrn(), maskSecrets(rpc.deserializeProperties(r.getOutputs(), true)));
    return registerOutputs(req, cb);
  };
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Evaluates the program for `stack` offline. Calls are serialized: the Pulumi runtime's settings are global.
 * Throws ConfigError (exit 2) on bad config; any other error is the program's own failure.
 */
export function synthStack(stack: string, opts: SynthOptions = {}): Promise<SynthResult> {
  const run = queue.then(() => synthOnce(stack, opts));
  queue = run.catch(() => undefined);
  return run;
}

async function synthOnce(stack: string, opts: SynthOptions): Promise<SynthResult> {
  const { project, main, config, secretKeys } = stackConfig(stack, opts);
  const dir = opts.dir ?? REPO_ROOT;
  const mocks = createMocks({ gcpProject: config['gcp:project'], gcpRegion: config['gcp:region'], awsRegion: config['aws:region'] });
  const calls: string[] = [];
  const call = mocks.call.bind(mocks);
  mocks.call = (args) => {
    calls.push(args.token);
    return call(args);
  };
  await pulumi.runtime.setMocks(mocks, project, stack, opts.preview ?? false);
  pulumi.runtime.setAllConfig(config, secretKeys);
  const resources: RecordedResource[] = [];
  const registeredOutputs = new Map<string, unknown>();
  recordRegistrations(resources, registeredOutputs);

  // Bad config is refused before the program runs, as the program itself would (infra/config/load.ts): a
  // program that throws inside the root stack resource leaves a second, unawaited rejection behind.
  parseConfig(decodeConfigValues(config), stack);
  const program = require.resolve(path.resolve(dir, main));
  // The program builds its resources when its module loads: load it afresh for every stack.
  delete require.cache[program];
  let failure: unknown;
  try {
    await (pulumi.runtime as unknown as { runInPulumiStack(init: () => Promise<unknown>): Promise<unknown> }).runInPulumiStack(async () => {
      let exported: unknown = require(program);
      if (typeof exported === 'function') exported = await (exported as () => unknown)();
      return await exported;
    });
  } catch (e) {
    failure = e;
  }
  // Drain every pending registration before returning (or before the next stack starts).
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  if (failure) throw unwrapConfigError(failure);
  const root = resources.find((r) => r.type === 'pulumi:pulumi:Stack');
  const outputs = (root && (registeredOutputs.get(root.urn) as Record<string, unknown>)) ?? {};
  return { stack, resources, outputs, calls };
}

/** A ConfigError thrown while the program loads can arrive wrapped by the runtime; find it. */
function unwrapConfigError(e: unknown): unknown {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur; i++) {
    if (cur instanceof ConfigError) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return e;
}

export { PROJECT };
