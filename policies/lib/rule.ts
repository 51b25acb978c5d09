/**
 * Builds @pulumi/policy policies from Lifeboat rules. A rule is a pure check over resource inputs (cdk-nag
 * style); this module adds what every rule shares: type filtering, config defaults and validation, waivers with a
 * mandatory reason, the ephemeral-stack switch for production-only rules, and unwrapping of the preview proxy so
 * that unknown values are seen as unknown instead of throwing.
 */
import type {
  EnforcementLevel,
  PolicyConfigSchema,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from '@pulumi/policy';
import type { PolicyConfigJSONSchema } from '@pulumi/policy/schema';
import { STACK_TAG_EPHEMERAL, labelledEphemeral, labelsOf } from './conventions';
import { isRecord, unwrap } from './values';
import { findWaiver, type Waiver } from './waivers';

export type Platform = 'gcp' | 'aws' | 'kubernetes' | 'stack';

/** A resource as the rules see it: plain inputs (unknowns left as sentinels), labels, links by URN. */
export interface Subject {
  type: string;
  name: string;
  urn: string;
  props: Record<string, unknown>;
  labels: Record<string, string>;
  parent?: string;
  dependencies: string[];
  /** Inputs of the resource's explicit provider, when the analyzer was given one (e.g. its `region`). */
  providerProps?: Record<string, unknown>;
}

/** What RULES.md documents for every rule. */
export interface RuleDoc {
  name: string;
  platform: Platform;
  description: string;
  why: string;
  fix: string;
  enforcementLevel: EnforcementLevel;
  /** Thresholds and switches, with defaults; become the policy's configSchema next to `waivers`. */
  config?: Record<string, PolicyConfigJSONSchema>;
  /** Checked only in stacks that are not ephemeral (see RULES.md, Conventions). */
  productionOnly?: boolean;
}

export interface RuleConfig {
  waivers: Waiver[];
  ephemeral: boolean;
  [key: string]: unknown;
}

export interface ResourceRule extends RuleDoc {
  types: readonly string[];
  /** Narrower applicability than the type (e.g. only backup buckets); default: every resource of the types. */
  appliesTo?: (r: Subject) => boolean;
  check: (r: Subject, cfg: RuleConfig, report: (message: string) => void) => void;
}

export interface StackView {
  resources: Subject[];
  byUrn: Map<string, Subject>;
  /** Stack-wide: config `ephemeral`, the stack tag `lifeboat:ephemeral`, or any resource labelled ephemeral. */
  ephemeral: boolean;
}

export interface StackRule extends RuleDoc {
  check: (stack: StackView, cfg: RuleConfig, report: (message: string, subject?: Subject) => void) => void;
}

export type LifeboatPolicy = (ResourceValidationPolicy | StackValidationPolicy) & { lifeboat: RuleDoc };

const WAIVERS_SCHEMA: PolicyConfigJSONSchema = {
  type: 'array',
  description: 'Resources this rule does not apply to: [{ pattern, reason }], pattern is a glob on the resource name (or URN).',
  items: {
    type: 'object',
    properties: { pattern: { type: 'string', minLength: 1 }, reason: { type: 'string', minLength: 1 } },
    required: ['pattern', 'reason'],
  },
  default: [],
};

const EPHEMERAL_SCHEMA: PolicyConfigJSONSchema = {
  type: 'boolean',
  description: 'Treat the stack as ephemeral (a pull-request stack): production-only rules are skipped.',
  default: false,
};

function configSchema(doc: RuleDoc): PolicyConfigSchema {
  const properties: Record<string, PolicyConfigJSONSchema> = { waivers: WAIVERS_SCHEMA, ...(doc.config ?? {}) };
  if (doc.productionOnly) properties.ephemeral = EPHEMERAL_SCHEMA;
  return { properties };
}

/**
 * The policy's config with defaults applied and primitive types checked. The Pulumi CLI validates config against
 * the schema too; the in-process runner (policies/run.ts) does not, so a wrong type is refused here, naming the key.
 */
export function readConfig(doc: RuleDoc, given: unknown): RuleConfig {
  const schema = configSchema(doc).properties;
  const raw = isRecord(given) ? given : {};
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(schema)) {
    const value = raw[key] === undefined ? prop.default : raw[key];
    if (value !== undefined) checkType(doc.name, key, prop, value);
    out[key] = value;
  }
  return out as RuleConfig;
}

function checkType(policy: string, key: string, prop: PolicyConfigJSONSchema, value: unknown): void {
  const want = prop.type;
  const ok =
    want === 'integer' ? Number.isInteger(value)
    : want === 'number' ? typeof value === 'number' && Number.isFinite(value)
    : want === 'boolean' ? typeof value === 'boolean'
    : want === 'string' ? typeof value === 'string'
    : want === 'array' ? Array.isArray(value)
    : true;
  const inRange =
    typeof value !== 'number' || ((prop.minimum === undefined || value >= prop.minimum) && (prop.maximum === undefined || value <= prop.maximum));
  if (!ok || !inRange) {
    const range = prop.minimum !== undefined ? ` >= ${prop.minimum}` : '';
    throw new Error(`policy ${policy}: config key '${key}' must be ${String(want)}${range}, got ${JSON.stringify(value)}`);
  }
}

function ephemeralFromTags(tags: ReadonlyMap<string, string> | undefined): boolean {
  return tags?.get(STACK_TAG_EPHEMERAL) === 'true';
}

function subjectOf(r: { type: string; name: string; urn: string; props: Record<string, unknown> }): Subject {
  const props = unwrap(r.props) ?? {};
  return { type: r.type, name: r.name, urn: r.urn, props, labels: labelsOf(r.type, props), dependencies: [] };
}

/** Applies a matching waiver: returns true when the finding is waived; reports a waiver that has no reason. */
function waived(cfg: RuleConfig, subject: Subject | undefined, report: (message: string) => void): boolean {
  if (!subject) return false;
  const match = findWaiver(cfg.waivers, subject.name, subject.urn);
  if (!match) return false;
  if (match.reason === undefined) {
    report(`waiver with pattern '${match.pattern}' matches '${subject.name}' but gives no reason; a waiver needs a reason, so it is not applied`);
    return false;
  }
  return true;
}

export function resourcePolicy(rule: ResourceRule): LifeboatPolicy {
  const { check, appliesTo, types, ...doc } = rule;
  const typeSet = new Set<string>(types);
  const policy: ResourceValidationPolicy & { lifeboat: RuleDoc } = {
    name: doc.name,
    description: doc.description,
    enforcementLevel: doc.enforcementLevel,
    remediationSteps: doc.fix,
    configSchema: configSchema(doc),
    lifeboat: doc,
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
      if (!typeSet.has(args.type)) return;
      const cfg = readConfig(doc, args.getConfig());
      const subject = subjectOf(args);
      subject.parent = args.opts?.parent;
      if (args.provider) subject.providerProps = unwrap(args.provider.props);
      if (appliesTo && !appliesTo(subject)) return;
      if (doc.productionOnly && (cfg.ephemeral || ephemeralFromTags(args.stackTags) || labelledEphemeral(subject.labels))) return;
      const findings: string[] = [];
      const waiverProblems: string[] = [];
      const isWaived = waived(cfg, subject, (m) => waiverProblems.push(m));
      if (!isWaived) check(subject, cfg, (m) => findings.push(m));
      for (const m of waiverProblems) reportViolation(m);
      for (const m of findings) reportViolation(m);
    },
  };
  return policy;
}

export function stackPolicy(rule: StackRule): LifeboatPolicy {
  const { check, ...doc } = rule;
  const policy: StackValidationPolicy & { lifeboat: RuleDoc } = {
    name: doc.name,
    description: doc.description,
    enforcementLevel: doc.enforcementLevel,
    remediationSteps: doc.fix,
    configSchema: configSchema(doc),
    lifeboat: doc,
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
      const cfg = readConfig(doc, args.getConfig());
      const resources = args.resources.map((r: PolicyResource) => {
        const s = subjectOf(r);
        s.parent = r.parent?.urn ?? r.opts?.parent;
        s.dependencies = r.dependencies.map((d) => d.urn);
        if (r.provider) s.providerProps = unwrap(r.provider.props);
        return s;
      });
      const view: StackView = {
        resources,
        byUrn: new Map(resources.map((r) => [r.urn, r])),
        ephemeral: cfg.ephemeral === true || ephemeralFromTags(args.stackTags) || resources.some((r) => labelledEphemeral(r.labels)),
      };
      if (doc.productionOnly && view.ephemeral) return;
      check(view, cfg, (message, subject) => {
        if (waived(cfg, subject, (m) => reportViolation(m, subject?.urn))) return;
        reportViolation(message, subject?.urn);
      });
    },
  };
  return policy;
}

/** Resources of any of the given types. */
export function ofType(stack: StackView, ...types: (string | readonly string[])[]): Subject[] {
  const set = new Set(types.flat());
  return stack.resources.filter((r) => set.has(r.type));
}

/** Resources that depend on `target` (by URN), optionally of some types. */
export function dependents(stack: StackView, target: Subject, types?: readonly string[]): Subject[] {
  return stack.resources.filter((r) => r.dependencies.includes(target.urn) && (!types || types.includes(r.type)));
}
