/**
 * Runs the policy pack the way the Pulumi CLI does and talks to it over its Analyzer gRPC service.
 *
 * The CLI starts the `pulumi-analyzer-policy` plugin with the policy pack folder as working directory and the
 * arguments `<engine address> .` (plus `-key=value` for runtime options in PulumiPolicy.yaml: none here). That
 * plugin is a shell script (sdk/nodejs/dist/pulumi-analyzer-policy in pulumi/pulumi) that does
 * `node -e "require.resolve('@pulumi/pulumi/cmd/run-policy-pack')"` in that folder and runs the result with node and
 * the same arguments; run-policy-pack registers ts-node (type-checking), requires the folder (package.json `main`:
 * index.ts), and the pack prints the port of its gRPC server on stdout. This does exactly that. The pack never
 * dials the engine address, so a placeholder is passed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { RecordedResource } from '../../infra/synth/recorded';

// The gRPC and protobuf runtimes are @pulumi/pulumi's own dependencies (not ours): load the very copies its
// generated analyzer stubs use, or the client and the messages would not match.
const PULUMI_DIR = path.dirname(require.resolve('@pulumi/pulumi/package.json'));
const fromPulumi = (id: string) => require(require.resolve(id, { paths: [PULUMI_DIR] }));
const grpc = fromPulumi('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
const { Struct } = fromPulumi('google-protobuf/google/protobuf/struct_pb') as typeof import('google-protobuf/google/protobuf/struct_pb');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const analyzerPb: any = require('@pulumi/pulumi/proto/analyzer_pb');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const analyzerGrpc: any = require('@pulumi/pulumi/proto/analyzer_grpc_pb');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const emptyPb: any = fromPulumi('google-protobuf/google/protobuf/empty_pb');

export const PACK_DIR = path.resolve(__dirname, '..', '..', 'policies');

export interface Diagnostic {
  policyName: string;
  message: string;
  urn: string;
  enforcementLevel: 'advisory' | 'mandatory' | 'disabled' | 'remediate';
}

const LEVELS = ['advisory', 'mandatory', 'disabled', 'remediate'] as const;

export interface AnalyzerInfo {
  name: string;
  policies: { name: string; enforcementLevel: string; configSchema?: unknown }[];
}

export class PolicyPackProcess {
  private constructor(
    private readonly child: ChildProcess,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    private readonly client: any,
  ) {}

  static async start(): Promise<PolicyPackProcess> {
    const runner = require.resolve('@pulumi/pulumi/cmd/run-policy-pack', { paths: [PACK_DIR] });
    const child = spawn(process.execPath, [runner, '127.0.0.1:0', '.'], { cwd: PACK_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      let stdout = '';
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        const line = stdout.split('\n')[0];
        if (stdout.includes('\n') && /^\d+$/.test(line.trim())) resolve(Number(line.trim()));
        else if (stdout.includes('\n')) reject(new Error(`policy pack printed ${JSON.stringify(line)} instead of its port; stderr: ${stderr}`));
      });
      child.on('exit', (code) => reject(new Error(`policy pack exited with ${code} before printing its port; stderr: ${stderr}`)));
      child.on('error', reject);
    });
    const client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    return new PolicyPackProcess(child, client);
  }

  async stop(): Promise<void> {
    this.client.close();
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }

   
  private call<T>(method: string, req: unknown): Promise<T> {
    return new Promise((resolve, reject) => this.client[method](req, (err: Error | null, resp: T) => (err ? reject(err) : resolve(resp))));
  }

  async info(): Promise<AnalyzerInfo> {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const resp: any = await this.call('getAnalyzerInfo', new emptyPb.Empty());
    return {
      name: resp.getName(),
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      policies: resp.getPoliciesList().map((p: any) => ({
        name: p.getName(),
        enforcementLevel: LEVELS[p.getEnforcementlevel()],
        configSchema: p.getConfigschema()?.getProperties()?.toJavaScript(),
      })),
    };
  }

  /** ConfigureAnalyzer: policy config as `--policy-pack-config` gives it (replaces any earlier config). */
  async configure(config: Record<string, { enforcementLevel?: (typeof LEVELS)[number]; [k: string]: unknown }>): Promise<void> {
    const req = new analyzerPb.ConfigureAnalyzerRequest();
    const map = req.getPolicyconfigMap();
    for (const [name, { enforcementLevel, ...props }] of Object.entries(config)) {
      const pc = new analyzerPb.PolicyConfig();
      pc.setEnforcementlevel(LEVELS.indexOf(enforcementLevel ?? 'mandatory'));
      pc.setProperties(Struct.fromJavaScript(props as never));
      map.set(name, pc);
    }
    await this.call('configure', req);
  }

  /** Analyze: one call per resource, with its inputs, as the engine does before each step. */
  async analyze(resources: RecordedResource[]): Promise<Diagnostic[]> {
    const out: Diagnostic[] = [];
    for (const r of resources) {
      const req = new analyzerPb.AnalyzeRequest();
      req.setType(r.type);
      req.setUrn(r.urn);
      req.setName(r.name);
      req.setProperties(Struct.fromJavaScript(plain(r.inputs)));
      req.setOptions(optionsOf(r));
      const provider = providerOf(r, resources);
      if (provider) req.setProvider(provider);
      out.push(...diagnosticsOf(await this.call('analyze', req)));
    }
    return out;
  }

  /** AnalyzeStack: every resource at once, with parents and dependencies, as the engine does at the end. */
  async analyzeStack(resources: RecordedResource[]): Promise<Diagnostic[]> {
    const req = new analyzerPb.AnalyzeStackRequest();
    req.setResourcesList(
      resources.map((r) => {
        const ar = new analyzerPb.AnalyzerResource();
        ar.setType(r.type);
        ar.setUrn(r.urn);
        ar.setName(r.name);
        ar.setProperties(Struct.fromJavaScript(plain(r.inputs)));
        ar.setOptions(optionsOf(r));
        if (r.parent) ar.setParent(r.parent);
        ar.setDependenciesList(r.dependencies);
        const provider = providerOf(r, resources);
        if (provider) ar.setProvider(provider);
        return ar;
      }),
    );
    return diagnosticsOf(await this.call('analyzeStack', req));
  }

  async analyzeAll(resources: RecordedResource[]): Promise<Diagnostic[]> {
    return [...(await this.analyze(resources)), ...(await this.analyzeStack(resources))];
  }
}

function optionsOf(r: RecordedResource): unknown {
  const o = new analyzerPb.AnalyzerResourceOptions();
  o.setProtect(r.protect ?? false);
  if (r.parent) o.setParent(r.parent);
  return o;
}

function providerOf(r: RecordedResource, all: RecordedResource[]): unknown {
  if (!r.provider) return undefined;
  const p = all.find((x) => r.provider === x.urn || r.provider!.startsWith(`${x.urn}::`));
  if (!p) return undefined;
  const ap = new analyzerPb.AnalyzerProviderResource();
  ap.setType(p.type);
  ap.setUrn(p.urn);
  ap.setName(p.name);
  ap.setProperties(Struct.fromJavaScript(plain(p.inputs)));
  return ap;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function diagnosticsOf(resp: any): Diagnostic[] {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return resp.getDiagnosticsList().map((d: any) => ({
    policyName: d.getPolicyname(),
    message: d.getMessage(),
    urn: d.getUrn(),
    enforcementLevel: LEVELS[d.getEnforcementlevel()],
  }));
}

/** What the engine's wire format can carry: plain JSON (no undefined members). */
function plain(inputs: Record<string, unknown>): never {
  return JSON.parse(JSON.stringify(inputs)) as never;
}
