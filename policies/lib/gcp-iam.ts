/**
 * GCP IAM grants in a stack and the runner identities they are given to. A grant is linked to a service account
 * by dependency (the member was built from the account's email output) or by the account id in a known member
 * string. A service account's kind comes from its account id or logical name (see RULES.md, Conventions).
 */
import { LABEL, T, isLifeboatResource } from './conventions';
import type { StackView, Subject } from './rule';
import { UNKNOWN, at, list } from './values';

export type IdentityKind = 'backup' | 'restore' | 'scheduler' | 'other';

export interface Grant {
  subject: Subject;
  role: unknown;
  /** Member strings; UNKNOWN entries are kept out (the link then comes from dependencies). */
  members: string[];
}

export function grantsOf(stack: StackView): Grant[] {
  const out: Grant[] = [];
  for (const r of stack.resources) {
    if (r.type === T.projectIamMember || r.type === T.gcsBucketIamMember) {
      const m = at(r.props, 'member');
      out.push({ subject: r, role: at(r.props, 'role'), members: typeof m === 'string' ? [m] : [] });
    } else if (r.type === T.projectIamBinding || r.type === T.gcsBucketIamBinding) {
      const ms = list(at(r.props, 'members'));
      out.push({ subject: r, role: at(r.props, 'role'), members: ms === UNKNOWN ? [] : ms.filter((m): m is string => typeof m === 'string') });
    }
  }
  return out;
}

function accountIdOf(sa: Subject): string {
  const id = at(sa.props, 'accountId');
  return typeof id === 'string' ? id : sa.name;
}

/** The kind of a runner identity. Order matters: "backup-scheduler" is a scheduler, "drill" is a restore identity. */
export function identityKind(sa: Subject): IdentityKind {
  const role = sa.labels[LABEL.role];
  const text = `${role ?? ''} ${accountIdOf(sa)} ${sa.name}`.toLowerCase();
  if (/sched/.test(text)) return 'scheduler';
  if (/restore|drill/.test(text)) return 'restore';
  if (/backup/.test(text)) return 'backup';
  return 'other';
}

export function serviceAccountsOf(stack: StackView, grant: Grant): Subject[] {
  const accounts = stack.resources.filter((r) => r.type === T.serviceAccount);
  return accounts.filter((sa) => {
    if (grant.subject.dependencies.includes(sa.urn)) return true;
    const id = accountIdOf(sa);
    return grant.members.some((m) => m.startsWith(`serviceAccount:${id}@`));
  });
}

/**
 * A grant to a runner identity: its member is a Lifeboat service account (linked by dependency or account id).
 * Where the grant is made does not matter: Lifeboat components also grant roles to Google's service agents (the
 * Storage Transfer agent and Cloud Storage's agent for DR replication), which are not the runner.
 */
export function isRunnerGrant(stack: StackView, grant: Grant): boolean {
  return serviceAccountsOf(stack, grant).some((sa) => isLifeboatResource(sa.urn, sa.labels));
}
