/**
 * Evaluates the whole pack in-process over resources recorded by the offline synth, with the same policy objects
 * and the same argument shapes the CrossGuard analyzer server builds (@pulumi/policy server.js), so a verdict here
 * is the verdict `pulumi preview --policy-pack policies` gives. Used by `npm run synth` and the tests.
 */
import type {
  EnforcementLevel,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from '@pulumi/policy';
import type { PolicyViolation, RecordedResource } from '../infra/synth/recorded';
import { policies as allPolicies } from './policies';
import type { LifeboatPolicy } from './lib/rule';
import { isRecord } from './lib/values';

export interface RunPoliciesOptions {
  /** Policy pack config as `--policy-pack-config` takes it: { "<policy>": level | { enforcementLevel?, ...props } }. */
  config?: Record<string, unknown>;
  /** Stack tags (the CLI sends them with ConfigureStack), e.g. { "lifeboat:ephemeral": "true" }. */
  stackTags?: Record<string, string>;
  /** The pack's policies; defaults to all of them. */
  policies?: LifeboatPolicy[];
}

const LEVELS: readonly EnforcementLevel[] = ['advisory', 'mandatory', 'remediate', 'disabled'];
/** The pack's default, as index.ts declares it. */
const PACK_LEVEL: EnforcementLevel = 'mandatory';

interface PolicyConfig {
  level?: EnforcementLevel;
  props: Record<string, unknown>;
}

function parseConfig(config: Record<string, unknown> | undefined, known: Set<string>): Map<string, PolicyConfig> {
  const out = new Map<string, PolicyConfig>();
  for (const [name, value] of Object.entries(config ?? {})) {
    if (!known.has(name)) throw new Error(`policy config: unknown policy '${name}'; expected one of ${[...known].join(', ')}`);
    if (typeof value === 'string') {
      if (!LEVELS.includes(value as EnforcementLevel)) throw new Error(`policy config '${name}': enforcement level must be one of ${LEVELS.join(', ')}, got '${value}'`);
      out.set(name, { level: value as EnforcementLevel, props: {} });
    } else if (isRecord(value)) {
      const { enforcementLevel, ...props } = value;
      if (enforcementLevel !== undefined && !LEVELS.includes(enforcementLevel as EnforcementLevel)) {
        throw new Error(`policy config '${name}.enforcementLevel' must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(enforcementLevel)}`);
      }
      out.set(name, { level: enforcementLevel as EnforcementLevel | undefined, props });
    } else {
      throw new Error(`policy config '${name}' must be an enforcement level or an object, got ${JSON.stringify(value)}`);
    }
  }
  return out;
}

function notApplicable(reason?: string): never {
  throw new NotApplicable(reason);
}

class NotApplicable extends Error {}

function optionsOf(r: RecordedResource): PolicyResourceOptions {
  return {
    protect: r.protect ?? false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(r.parent ? { parent: r.parent } : {}),
  };
}

/** `<urn>::<id>` → the recorded provider resource. Provider URNs contain `::` themselves, so match by prefix. */
function providerOf(r: RecordedResource, all: RecordedResource[]): { type: string; props: Record<string, unknown>; urn: string; name: string } | undefined {
  if (!r.provider) return undefined;
  const p = all.find((x) => r.provider === x.urn || r.provider!.startsWith(`${x.urn}::`));
  return p ? { type: p.type, props: p.inputs, urn: p.urn, name: p.name } : undefined;
}

export async function runPolicies(resources: RecordedResource[], opts: RunPoliciesOptions = {}): Promise<PolicyViolation[]> {
  const policies = opts.policies ?? allPolicies;
  const config = parseConfig(opts.config, new Set(policies.map((p) => p.name)));
  const stackTags: ReadonlyMap<string, string> = new Map(Object.entries(opts.stackTags ?? {}));
  const violations: PolicyViolation[] = [];
  const noType = () => false;

  for (const p of policies) {
    const cfg = config.get(p.name);
    let level: EnforcementLevel = cfg?.level ?? p.enforcementLevel ?? PACK_LEVEL;
    if (level === 'disabled') continue;
    if (level === 'remediate') level = 'mandatory'; // as the analyzer does for validations
    const getConfig = <T extends object>() => (cfg?.props ?? {}) as T;
    const push = (message: string, urn?: string) => violations.push({ policyName: p.name, enforcementLevel: level, message, ...(urn ? { urn } : {}) });

    if ('validateResource' in p && p.validateResource) {
      const validations = ([] as NonNullable<ResourceValidationPolicy['validateResource']>[]).concat(p.validateResource).flat();
      for (const r of resources) {
        const provider = providerOf(r, resources);
        const args: ResourceValidationArgs = {
          type: r.type,
          props: r.inputs,
          urn: r.urn,
          name: r.name,
          opts: optionsOf(r),
          stackTags,
          isType: noType,
          asType: () => undefined,
          getConfig,
          notApplicable,
          ...(provider ? { provider } : {}),
        };
        for (const validate of validations) {
          try {
            await validate(args, (message) => push(message, r.urn));
          } catch (e) {
            if (!(e instanceof NotApplicable)) throw e;
          }
        }
      }
    } else if ('validateStack' in p) {
      const byUrn = new Map<string, PolicyResource>();
      const stackResources: PolicyResource[] = resources.map((r) => {
        const provider = providerOf(r, resources);
        const pr: PolicyResource = {
          type: r.type,
          props: r.inputs,
          urn: r.urn,
          name: r.name,
          opts: optionsOf(r),
          dependencies: [],
          propertyDependencies: {},
          isType: noType,
          asType: () => undefined,
          ...(provider ? { provider } : {}),
        };
        byUrn.set(r.urn, pr);
        return pr;
      });
      resources.forEach((r, i) => {
        const pr = stackResources[i];
        if (r.parent && byUrn.has(r.parent)) pr.parent = byUrn.get(r.parent);
        pr.dependencies = r.dependencies.map((d) => byUrn.get(d)).filter((d): d is PolicyResource => d !== undefined);
      });
      const args: StackValidationArgs = { resources: stackResources, stackTags, getConfig, notApplicable };
      try {
        await (p as StackValidationPolicy).validateStack(args, (message, urn) => push(message, urn));
      } catch (e) {
        if (!(e instanceof NotApplicable)) throw e;
      }
    }
  }
  return violations;
}
