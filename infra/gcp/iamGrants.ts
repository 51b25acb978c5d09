/**
 * IAM for the runner's identities, as data: who gets which role on what, with which condition. The components
 * turn these into bucket, secret, job and project IAM members. Least privilege, and no identity that writes
 * backups can delete one (retention is the bucket's lifecycle rules and retention policy):
 *
 * - backup: `roles/storage.objectCreator` + `roles/storage.objectViewer` on the backup bucket only. Neither role
 *   holds `storage.objects.delete`, so the identity can neither delete nor overwrite (overwriting needs delete),
 *   and the bucket's retention policy forbids early deletion anyway. Predefined roles rather than a custom role:
 *   Google keeps them current as upload APIs gain permissions, and a custom role needs role-admin rights and drifts.
 * - restore/drill: `roles/storage.objectViewer`; drills also write their reports, so `objectCreator` only under
 *   `drills/` through an IAM condition on the object name.
 * - backup, when backups are locked per object (LIFEBOAT_OBJECT_LOCK): also a custom role holding only
 *   `storage.objects.setRetention`, on the backup bucket. Setting a retention at upload needs it, and no predefined
 *   role holds it without `storage.objects.delete` (storage.objectAdmin, storage.objectUser, storage.admin). Without
 *   `storage.objects.overrideUnlockedRetention` it can set or lengthen a retention, never shorten or remove one.
 * - scheduler: `roles/run.invoker` on each of these jobs and nothing else (it holds `run.jobs.run`).
 * - both runner identities: `roles/cloudsql.client` conditioned on the protected instances, log and metric writer.
 */
import { createHash } from 'node:crypto';
import { DRILLS_PREFIX } from '../../runner/contract/layout';
import { rooted } from './lifecycle';

export interface IamCondition {
  title: string;
  description: string;
  expression: string;
}

export interface BucketGrant {
  role: string;
  condition?: IamCondition;
}

export const ROLES = {
  objectCreator: 'roles/storage.objectCreator',
  objectViewer: 'roles/storage.objectViewer',
  secretAccessor: 'roles/secretmanager.secretAccessor',
  secretVersionAdder: 'roles/secretmanager.secretVersionAdder',
  cloudSqlClient: 'roles/cloudsql.client',
  logWriter: 'roles/logging.logWriter',
  metricWriter: 'roles/monitoring.metricWriter',
  runInvoker: 'roles/run.invoker',
} as const;

/** Roles no runner identity may ever hold (the policy pack checks the same). */
export const FORBIDDEN_ROLES = ['roles/owner', 'roles/editor', 'roles/storage.admin', 'roles/storage.objectAdmin', 'roles/storage.objectUser'];

/** CEL string literal. */
function cel(s: string): string {
  return JSON.stringify(s);
}

/** The one permission of the backup identity's custom role: setting an object's retention as it is uploaded. */
export const OBJECT_RETENTION_PERMISSIONS = ['storage.objects.setRetention'] as const;

/** The custom role's id (letters, digits, `_` and `.`, 3 to 64 characters), per stack prefix. */
export function objectRetentionRoleId(prefix: string): string {
  return `${prefix.replace(/[^A-Za-z0-9]/g, '_')}_setObjectRetention`.slice(-64);
}

/** Grants on the backup bucket for the backup identity. */
export function backupBucketGrants(): BucketGrant[] {
  return [{ role: ROLES.objectCreator }, { role: ROLES.objectViewer }];
}

/** Grants on a backup bucket for the restore/drill identity: read everything, write drill reports only. */
export function restoreBucketGrants(bucket: string, root: string): BucketGrant[] {
  const reports = `projects/_/buckets/${bucket}/objects/${rooted(root, `${DRILLS_PREFIX}/`)}`;
  return [
    { role: ROLES.objectViewer },
    {
      role: ROLES.objectCreator,
      condition: {
        title: 'drill-reports-only',
        description: 'Drills may write their reports, nothing else',
        expression: `resource.name.startsWith(${cel(reports)})`,
      },
    },
  ];
}

/** Cloud SQL client only on the named instances (`project:region:name` connection names → instance resources). */
export function cloudSqlCondition(project: string, instanceNames: string[]): IamCondition | undefined {
  if (instanceNames.length === 0) return undefined;
  const names = [...new Set(instanceNames)].sort();
  return {
    title: 'protected-instances-only',
    description: 'Connect only to the Cloud SQL instances this stack protects',
    expression: names.map((n) => `resource.name == ${cel(`projects/${project}/instances/${n}`)}`).join(' || '),
  };
}

/** Project-level roles of a runner identity (conditions where the service supports them). */
export function runnerProjectGrants(project: string, instanceNames: string[]): BucketGrant[] {
  const sql = cloudSqlCondition(project, instanceNames);
  return [
    ...(sql ? [{ role: ROLES.cloudSqlClient, condition: sql }] : []),
    { role: ROLES.logWriter },
    { role: ROLES.metricWriter },
  ];
}

/**
 * Service account ids are 6-30 characters: `<prefix>-<role>`. A prefix too long for that is shortened and given a
 * hash of the whole prefix, so two stacks whose prefixes share their first characters still get distinct accounts.
 */
export function serviceAccountId(prefix: string, role: string): string {
  const id = `${prefix}-${role}`;
  if (id.length < 6) return `${id}-sa`;
  if (id.length <= 30) return id;
  const hash = createHash('sha256').update(prefix).digest('hex').slice(0, 4);
  const head = prefix.slice(0, 30 - role.length - hash.length - 2).replace(/-+$/, '');
  return `${head}-${hash}-${role}`;
}
