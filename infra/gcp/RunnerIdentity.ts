import * as pulumi from '@pulumi/pulumi';
import * as gcp from '@pulumi/gcp';
import {
  OBJECT_RETENTION_PERMISSIONS,
  backupBucketGrants,
  objectRetentionRoleId,
  restoreBucketGrants,
  runnerProjectGrants,
  serviceAccountId,
  ROLES,
  type BucketGrant,
} from './iamGrants';

export interface RunnerIdentityArgs {
  project: string;
  /** Name prefix of the service accounts (`<prefix>-backup`, ...). */
  prefix: string;
  /** The backup bucket the backup identity writes and the restore identity reads. Default: none (DR stacks). */
  backupBucket?: pulumi.Input<string>;
  /** Buckets the restore identity reads as well (the DR copy). Default: []. */
  readBuckets?: pulumi.Input<string>[];
  /** Storage root (for the drill-report condition). Default: "". */
  storageRoot?: string;
  /** Secrets the backup identity reads. Default: []. */
  backupSecrets?: string[];
  /** Secrets the restore/drill identity reads. Default: []. */
  restoreSecrets?: string[];
  /** Cloud SQL instance names the runner may connect to. Default: []. */
  instances?: string[];
  /** Whether to create the scheduler identity. Default: true. */
  scheduler?: boolean;
  /** Whether to create the backup identity. Default: true (false in DR stacks, which only restore). */
  backup?: boolean;
  /** Resources the secret bindings wait for (the secrets themselves). Default: []. */
  secretsCreatedBy?: pulumi.Resource[];
  /**
   * Whether to grant the project-level roles (Cloud SQL client, log and metric writer). Default: true. False for
   * runners outside Cloud Run (GKE ships container logs itself and the database is reached by URL).
   */
  projectGrants?: boolean;
  /**
   * Whether the backup identity may set object retention (the runner locks each backup per class): a custom role
   * with storage.objects.setRetention only, on the backup bucket. Default: false (ephemeral stacks lock nothing,
   * and a deleted custom role's id stays taken for weeks).
   */
  objectRetention?: boolean;
}

/**
 * Separate service accounts, each with only what its task needs (iamGrants.ts says why each role):
 * backup (create + read objects in the backup bucket, no delete), restore/drill (read; drill reports only under
 * `drills/`), scheduler (gets `run.invoker` on each job in Schedules, nothing here).
 */
export class RunnerIdentity extends pulumi.ComponentResource {
  readonly backup?: gcp.serviceaccount.Account;
  readonly restore: gcp.serviceaccount.Account;
  readonly scheduler?: gcp.serviceaccount.Account;

  constructor(name: string, args: RunnerIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:gcp:RunnerIdentity', name, {}, opts);
    if (!args.project) throw new pulumi.ResourceError(`RunnerIdentity ${name}: project is required`, this);
    if (!/^[a-z][a-z0-9-]+$/.test(args.prefix ?? '')) throw new pulumi.ResourceError(`RunnerIdentity ${name}: prefix must be lowercase letters, digits and hyphens, got ${JSON.stringify(args.prefix)}`, this);
    const wantBackup = args.backup ?? true;
    if (wantBackup && !args.backupBucket) throw new pulumi.ResourceError(`RunnerIdentity ${name}: backupBucket is required for the backup identity`, this);
    const root = args.storageRoot ?? '';
    const account = (role: string, what: string) =>
      new gcp.serviceaccount.Account(`${name}-${role}`, {
        project: args.project,
        accountId: serviceAccountId(args.prefix, role),
        displayName: `Lifeboat ${role} (${args.prefix})`,
        description: what,
      }, { parent: this });

    this.restore = account('restore', 'Lifeboat restores and drills: reads backups, writes drill reports only');
    if (wantBackup) this.backup = account('backup', 'Lifeboat backups: creates and reads backup objects, cannot delete');
    if (args.scheduler ?? true) this.scheduler = account('scheduler', 'Lifeboat schedules: may only run the Lifeboat jobs');

    const bucketMembers = (who: string, sa: gcp.serviceaccount.Account, bucket: pulumi.Input<string>, grants: BucketGrant[], tag: string) =>
      grants.forEach((g) => {
        const role = g.role.split('.').pop()!.toLowerCase();
        new gcp.storage.BucketIAMMember(`${name}-${who}-${tag}-${role}${g.condition ? '-cond' : ''}`, {
          bucket,
          role: g.role,
          member: sa.member,
          ...(g.condition ? { condition: g.condition } : {}),
        }, { parent: this });
      });
    if (this.backup && args.backupBucket) bucketMembers('backup', this.backup, args.backupBucket, backupBucketGrants(), 'vault');
    if (this.backup && args.backupBucket && args.objectRetention) {
      const role = new gcp.projects.IAMCustomRole(`${name}-set-retention`, {
        project: args.project,
        roleId: objectRetentionRoleId(args.prefix),
        title: `Lifeboat ${args.prefix}: set object retention`,
        description: 'Sets the retention of backups as they are uploaded; cannot shorten, remove or delete',
        permissions: [...OBJECT_RETENTION_PERMISSIONS],
      }, { parent: this });
      new gcp.storage.BucketIAMMember(`${name}-backup-vault-setretention`, {
        bucket: args.backupBucket,
        role: role.name,
        member: this.backup.member,
      }, { parent: this });
    }
    if (args.backupBucket) {
      bucketMembers('restore', this.restore, args.backupBucket, restoreGrantsFor(args.backupBucket, root), 'vault');
    }
    (args.readBuckets ?? []).forEach((b, i) => bucketMembers('restore', this.restore, b, restoreGrantsFor(b, root), `read${i}`));

    const secretMembers = (who: string, sa: gcp.serviceaccount.Account, ids: string[]) =>
      [...new Set(ids)].forEach((id) =>
        new gcp.secretmanager.SecretIamMember(`${name}-${who}-${id}`, {
          project: args.project,
          secretId: id,
          role: ROLES.secretAccessor,
          member: sa.member,
        }, { parent: this, dependsOn: args.secretsCreatedBy ?? [] }),
      );
    if (this.backup) secretMembers('backup', this.backup, args.backupSecrets ?? []);
    secretMembers('restore', this.restore, args.restoreSecrets ?? []);

    const projectMembers = (who: string, sa: gcp.serviceaccount.Account) =>
      runnerProjectGrants(args.project, args.instances ?? []).forEach((g) =>
        new gcp.projects.IAMMember(`${name}-${who}-${g.role.split('/')[1]!.replace(/\./g, '-').toLowerCase()}`, {
          project: args.project,
          role: g.role,
          member: sa.member,
          ...(g.condition ? { condition: g.condition } : {}),
        }, { parent: this }),
      );
    if (args.projectGrants ?? true) {
      if (this.backup) projectMembers('backup', this.backup);
      projectMembers('restore', this.restore);
    }

    this.registerOutputs({
      backupEmail: this.backup?.email,
      restoreEmail: this.restore.email,
      schedulerEmail: this.scheduler?.email,
    });
  }
}

/**
 * The drill-report condition names the bucket; bucket names in this program are plain strings from config, so the
 * condition is computed directly. (An Output bucket name would need apply; none is used.)
 */
function restoreGrantsFor(bucket: pulumi.Input<string>, root: string): BucketGrant[] {
  if (typeof bucket !== 'string') throw new Error('RunnerIdentity: bucket names must be known strings');
  return restoreBucketGrants(bucket, root);
}
