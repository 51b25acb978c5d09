/**
 * A Node.js language host for the real Pulumi CLI: the `pulumi-language-nodejs` plugin, written here because
 * Pulumi's own (Go, `sdk/nodejs/cmd/pulumi-language-nodejs`) cannot be had from the registries: the Go module
 * proxy answers 403 for its module at every version, and no npm or PyPI package ships it.
 *
 * It is deliberately thin: the CLI talks to it over Pulumi's LanguageRuntime gRPC service (the service
 * definitions @pulumi/pulumi ships), and it runs the program with @pulumi/pulumi's own `cmd/run` (so the
 * program loads through Pulumi's TypeScript loading, exactly as under the real host) and a policy pack with
 * `cmd/run-policy-pack`, passing the same arguments and environment the real host passes. What the real host does
 * beyond that and this one does not: dependency installation, code generation, `pulumi about`'s dependency list,
 * debugger attachment, synchronous invokes over pipes, stack config for policy packs (Lifeboat's rules read
 * resource inputs only), the Bun runtime.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

const sdkDir = path.dirname(require.resolve('@pulumi/pulumi/package.json'));
const fromSdk = (m: string) => require(require.resolve(m, { paths: [sdkDir] }));
/* eslint-disable @typescript-eslint/no-explicit-any -- the generated protobuf classes carry no types */
const grpc = fromSdk('@grpc/grpc-js');
const langrpc = require(path.join(sdkDir, 'proto', 'language_grpc_pb'));
const langproto = require(path.join(sdkDir, 'proto', 'language_pb'));
const pluginproto = require(path.join(sdkDir, 'proto', 'plugin_pb'));
const version = (require(path.join(sdkDir, 'package.json')) as { version: string }).version;

/** `cmd/run`'s exit code for "the error was already shown to the user": the engine then bails quietly. */
const EXIT_AFTER_USER_MESSAGE = 32;

interface Options {
  typescript: boolean;
  tsconfig?: string;
  nodeargs: string[];
}

function runtimeOptions(info: any): Options {
  const o = (info?.getOptions()?.toJavaScript() ?? {}) as Record<string, unknown>;
  return {
    typescript: o.typescript !== false,
    tsconfig: typeof o.tsconfig === 'string' ? o.tsconfig : undefined,
    nodeargs: typeof o.nodeargs === 'string' ? o.nodeargs.split(/\s+/).filter(Boolean) : [],
  };
}

function typescriptEnv(opts: Options): Record<string, string> {
  return {
    ...(opts.typescript ? { PULUMI_NODEJS_TYPESCRIPT: 'true' } : {}),
    ...(opts.tsconfig ? { PULUMI_NODEJS_TSCONFIG_PATH: opts.tsconfig } : {}),
  };
}

/** The program's own copy of @pulumi/pulumi decides how it is run, as with the real host. */
function sdkModule(programDir: string, module: string): string {
  return require.resolve(`@pulumi/pulumi/${module}`, { paths: [programDir] });
}

class LanguageHost {
  constructor(private readonly engineAddress: string) {}

  getPluginInfo(_call: any, cb: any): void {
    const info = new pluginproto.PluginInfo();
    info.setVersion(version);
    cb(null, info);
  }

  // Plugins are found lazily by the engine when the program registers a resource (on PATH here).
  getRequiredPlugins(_call: any, cb: any): void {
    cb(null, new langproto.GetRequiredPluginsResponse());
  }

  getRequiredPackages(_call: any, cb: any): void {
    cb(null, new langproto.GetRequiredPackagesResponse());
  }

  getProgramDependencies(_call: any, cb: any): void {
    cb(null, new langproto.GetProgramDependenciesResponse());
  }

  installDependencies(call: any): void {
    // `npm ci` installs the project's dependencies; nothing is installed at run time.
    call.end();
  }

  run(call: any, cb: any): void {
    const req = call.request;
    const info = req.getInfo();
    const programDir: string = info.getProgramDirectory();
    const args = [sdkModule(programDir, 'cmd/run')];
    const add = (k: string, v: string | number | undefined) => {
      if (v !== undefined && v !== '') args.push(`--${k}`, String(v));
    };
    add('monitor', req.getMonitorAddress());
    add('engine', this.engineAddress);
    add('organization', req.getOrganization());
    add('project', req.getProject());
    add('root-directory', info.getRootDirectory());
    add('stack', req.getStack());
    add('pwd', programDir);
    if (req.getDryrun()) args.push('--dry-run');
    add('parallel', req.getParallel());
    args.push(info.getEntryPoint(), ...req.getArgsList());

    // Config keys as `<namespace>:config:<name>`, the form every @pulumi/pulumi version reads.
    const config: Record<string, string> = {};
    req.getConfigMap().forEach((v: string, k: string) => {
      const i = k.indexOf(':');
      config[i === -1 ? k : `${k.slice(0, i)}:config:${k.slice(i + 1)}`] = v;
    });
    const opts = runtimeOptions(info);
    const child = spawn(process.execPath, [...opts.nodeargs, ...args], {
      cwd: programDir,
      env: {
        ...process.env,
        PULUMI_CONFIG: JSON.stringify(config),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList()),
        ...typescriptEnv(opts),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', (e) => cb(null, this.runResponse(`could not run the program: ${e.message}`)));
    child.on('exit', (code, signal) => {
      if (code === 0) cb(null, this.runResponse(''));
      else if (code === EXIT_AFTER_USER_MESSAGE) cb(null, this.runResponse('', true));
      else cb(null, this.runResponse(`Program exited with non-zero exit code: ${code ?? signal}`));
    });
  }

  private runResponse(error: string, bail = false): unknown {
    const r = new langproto.RunResponse();
    r.setError(error);
    r.setBail(bail);
    return r;
  }

  /** Policy packs (kind "analyzer") and other Node.js plugins: output streamed back, exit code last. */
  runPlugin(call: any): void {
    const req = call.request;
    const info = req.getInfo();
    const programDir: string = info.getProgramDirectory();
    const analyzer = req.getKind() === 'analyzer';
    const opts = runtimeOptions(info);
    const entry = sdkModule(programDir, analyzer ? 'cmd/run-policy-pack' : 'cmd/run-plugin');
    const args = analyzer ? [entry, ...opts.nodeargs, ...req.getArgsList(), programDir] : [entry, ...opts.nodeargs, programDir, ...req.getArgsList()];
    const env = Object.fromEntries(
      (req.getEnvList() as string[]).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    const child = spawn(process.execPath, args, {
      cwd: analyzer ? programDir : req.getPwd() || programDir,
      env: { ...env, ...typescriptEnv(opts) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const send = (set: 'setStdout' | 'setStderr', chunk: Buffer) => {
      const r = new langproto.RunPluginResponse();
      r[set](chunk);
      call.write(r);
    };
    child.stdout.on('data', (c: Buffer) => send('setStdout', c));
    child.stderr.on('data', (c: Buffer) => send('setStderr', c));
    child.on('error', (e) => call.destroy(e));
    child.on('close', (code) => {
      const r = new langproto.RunPluginResponse();
      r.setExitcode(code ?? 1);
      call.write(r);
      call.end();
    });
    // The engine ends the stream (closing the pack) when the update is done.
    call.on('cancelled', () => child.kill('SIGTERM'));
  }

  cancel(_call: any, cb: any): void {
    cb(null, new (fromSdk('google-protobuf/google/protobuf/empty_pb').Empty)());
  }
}

function main(argv: string[]): void {
  // `pulumi-language-nodejs [-tracing X] [-runtime nodejs] <engine address>`: only the address matters here.
  const positional = argv.filter((a, i) => !a.startsWith('-') && !(argv[i - 1] ?? '').match(/^-{1,2}(tracing|runtime)$/));
  if (argv.includes('-version') || argv.includes('--version')) {
    console.log(version);
    return;
  }
  const host = new LanguageHost(positional[0] ?? '');
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 400 * 1024 * 1024 });
  const methods = ['getPluginInfo', 'getRequiredPlugins', 'getRequiredPackages', 'getProgramDependencies', 'installDependencies', 'run', 'runPlugin', 'cancel'] as const;
  server.addService(langrpc.LanguageRuntimeService, Object.fromEntries(methods.map((m) => [m, (host[m] as (...a: any[]) => void).bind(host)])));
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err: Error | null, port: number) => {
    if (err) {
      console.error(`pulumi-language-nodejs: cannot listen: ${err.message}`);
      process.exit(1);
    }
    console.log(String(port));
  });
}

main(process.argv.slice(2));
