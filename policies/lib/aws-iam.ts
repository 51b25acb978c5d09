/**
 * AWS IAM: the policy statements that apply to each role of the stack (inline policies, RolePolicy resources,
 * customer-managed policies attached in the stack) and the AWS-managed policies attached to it. Action patterns
 * are matched with IAM's wildcard semantics (`*`, `?`, case-insensitive).
 */
import { LABEL, T, isLifeboatResource } from './conventions';
import { ofType, type StackView, type Subject } from './rule';
import { UNKNOWN, at, containsUnknown, isRecord, list, parseJsonInput } from './values';

export interface Statement {
  effect: string;
  actions: string[];
  notAction: boolean;
  /** The resource the statement came from (for the report). */
  from: Subject;
}

export interface RolePermissions {
  role: Subject;
  statements: Statement[];
  managedPolicyArns: { arn: string; from: Subject }[];
  /** Some policy document could not be read yet (unknown at preview): absence of a finding proves nothing. */
  incomplete: boolean;
}

function statementsOf(doc: unknown, from: Subject): Statement[] | typeof UNKNOWN {
  const parsed = parseJsonInput(doc);
  if (parsed === UNKNOWN || containsUnknown(parsed)) return UNKNOWN;
  const raw = at(parsed, 'Statement');
  const arr = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return arr.filter(isRecord).map((s) => {
    const notAction = s.NotAction !== undefined;
    const a = notAction ? s.NotAction : s.Action;
    const actions = (Array.isArray(a) ? a : [a]).filter((x): x is string => typeof x === 'string');
    return { effect: typeof s.Effect === 'string' ? s.Effect : 'Allow', actions, notAction, from };
  });
}

function linked(stack: StackView, r: Subject, role: Subject): boolean {
  if (r.dependencies.includes(role.urn)) return true;
  const ref = at(r.props, 'role');
  const name = at(role.props, 'name');
  return typeof ref === 'string' && typeof name === 'string' && ref === name;
}

export function rolePermissions(stack: StackView, role: Subject): RolePermissions {
  const out: RolePermissions = { role, statements: [], managedPolicyArns: [], incomplete: false };
  const add = (doc: unknown, from: Subject) => {
    const s = statementsOf(doc, from);
    if (s === UNKNOWN) out.incomplete = true;
    else out.statements.push(...s);
  };
  const inline = list(at(role.props, 'inlinePolicies'));
  if (inline === UNKNOWN) out.incomplete = true;
  else for (const p of inline) add(at(p, 'policy'), role);
  const managed = list(at(role.props, 'managedPolicyArns'));
  if (managed !== UNKNOWN) for (const arn of managed) if (typeof arn === 'string') out.managedPolicyArns.push({ arn, from: role });

  for (const rp of ofType(stack, T.iamRolePolicy)) if (linked(stack, rp, role)) add(at(rp.props, 'policy'), rp);
  for (const att of ofType(stack, T.iamRolePolicyAttachment)) {
    if (!linked(stack, att, role)) continue;
    const customer = ofType(stack, T.iamPolicy).find((p) => att.dependencies.includes(p.urn));
    if (customer) add(at(customer.props, 'policy'), att);
    else {
      const arn = at(att.props, 'policyArn');
      if (typeof arn === 'string') out.managedPolicyArns.push({ arn, from: att });
      else if (arn === UNKNOWN) out.incomplete = true;
    }
  }
  return out;
}

/** Roles that belong to the Lifeboat runner. */
export function runnerRoles(stack: StackView): Subject[] {
  return ofType(stack, T.iamRole).filter((r) => isLifeboatResource(r.urn, r.labels));
}

/** The backup identity: tagged `lifeboat-role: backup-identity`, or a runner role named for backups (not restore/drill/scheduler). */
export function isBackupRole(role: Subject): boolean {
  const tag = role.labels[LABEL.role];
  if (tag !== undefined) return tag === 'backup-identity';
  const name = at(role.props, 'name');
  const text = `${typeof name === 'string' ? name : ''} ${role.name}`.toLowerCase();
  return /backup/.test(text) && !/restore|drill|sched/.test(text);
}

function patternToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** Whether an Action pattern (e.g. `s3:Delete*`, `*`) grants the given action. */
export function actionMatches(pattern: string, action: string): boolean {
  return patternToRegExp(pattern).test(action);
}
