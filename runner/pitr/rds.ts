/**
 * Point-in-time recovery on Amazon RDS through the official SDK (@aws-sdk/client-rds):
 * RestoreDBInstanceToPointInTime into a new instance that takes over the source's network (DB subnet group,
 * VPC security groups), parameter and option groups, instance class, Multi-AZ and storage settings as
 * DescribeDBInstances gives them. The source is only ever described.
 *
 * The window: LatestRestorableTime from DescribeDBInstances; the earliest point from the automated backups'
 * RestoreWindow (DescribeDBInstanceAutomatedBackups), or, where that is not reported, the later of the
 * instance's creation and LatestRestorableTime minus the backup retention period.
 */
import {
  DeleteDBInstanceCommand,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  RestoreDBInstanceToPointInTimeCommand,
  paginateDescribeDBInstances,
  type DBInstance,
  type RDSClient,
  type RestoreDBInstanceToPointInTimeCommandInput,
} from '@aws-sdk/client-rds';
import { describeError, runtimeError } from '../errors';
import { pollUntil, type CloneProgress, type ManagedInstance, type ManagedPitrProvider, type ManagedSource, type RecoveryWindow } from './managed';

/** Statuses from which an instance never becomes available without someone stepping in. */
const RDS_FAILED_STATUSES = new Set(['failed', 'incompatible-restore', 'incompatible-parameters', 'incompatible-network', 'inaccessible-encryption-credentials', 'storage-full', 'restore-error']);

const DAY_MS = 86_400_000;

function isNotFound(e: unknown): boolean {
  return (e as { name?: string })?.name === 'DBInstanceNotFoundFault' || (e as { name?: string })?.name === 'DBInstanceNotFound';
}

function rdsError(what: string, e: unknown): Error {
  return runtimeError('rds_request_failed', `RDS ${what} failed: ${describeError(e)}`, undefined, e);
}

export function instanceOf(db: DBInstance): ManagedInstance {
  return {
    name: db.DBInstanceIdentifier ?? '',
    status: db.DBInstanceStatus ?? 'unknown',
    endpoint: db.Endpoint?.Address ? { host: db.Endpoint.Address, port: db.Endpoint.Port ?? 5432 } : null,
    labels: Object.fromEntries((db.TagList ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
  };
}

/**
 * The settings a point-in-time copy takes over from the source. RDS would otherwise put the copy in the
 * default VPC's subnets and security group with the default parameter group: a copy nobody can reach, or one
 * that behaves differently from the source.
 */
export function carriedSettings(db: DBInstance): Omit<RestoreDBInstanceToPointInTimeCommandInput, 'SourceDBInstanceIdentifier' | 'TargetDBInstanceIdentifier' | 'RestoreTime' | 'Tags'> {
  const s: Omit<RestoreDBInstanceToPointInTimeCommandInput, 'SourceDBInstanceIdentifier' | 'TargetDBInstanceIdentifier' | 'RestoreTime' | 'Tags'> = {
    DBInstanceClass: db.DBInstanceClass,
    MultiAZ: db.MultiAZ,
    DBSubnetGroupName: db.DBSubnetGroup?.DBSubnetGroupName,
    VpcSecurityGroupIds: (db.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId).filter((g): g is string => !!g),
    DBParameterGroupName: db.DBParameterGroups?.[0]?.DBParameterGroupName,
    // A default option group is chosen by RDS for the engine version anyway; naming it can only fail.
    OptionGroupName: db.OptionGroupMemberships?.[0]?.OptionGroupName?.startsWith('default:') ? undefined : db.OptionGroupMemberships?.[0]?.OptionGroupName,
    StorageType: db.StorageType,
    AllocatedStorage: db.AllocatedStorage,
    Iops: db.Iops,
    StorageThroughput: db.StorageThroughput,
    MaxAllocatedStorage: db.MaxAllocatedStorage,
    Port: db.Endpoint?.Port ?? db.DbInstancePort,
    PubliclyAccessible: db.PubliclyAccessible,
    EnableIAMDatabaseAuthentication: db.IAMDatabaseAuthenticationEnabled,
    CACertificateIdentifier: db.CACertificateIdentifier,
    AutoMinorVersionUpgrade: db.AutoMinorVersionUpgrade,
  };
  if (s.VpcSecurityGroupIds?.length === 0) delete s.VpcSecurityGroupIds;
  // RDS reports gp3's baseline IOPS and throughput but refuses them in a request below the size where they can
  // be set (400 GiB for PostgreSQL, MySQL and MariaDB), and they mean nothing for gp2 or magnetic storage.
  const type = s.StorageType ?? '';
  if (type !== 'io1' && type !== 'io2' && !(type === 'gp3' && (s.AllocatedStorage ?? 0) >= 400)) {
    delete s.Iops;
    delete s.StorageThroughput;
  }
  if (type === 'io1' || type === 'io2') delete s.StorageThroughput;
  for (const k of Object.keys(s) as (keyof typeof s)[]) if (s[k] === undefined) delete s[k];
  return s;
}

export class RdsPitr implements ManagedPitrProvider {
  readonly kind = 'rds' as const;

  constructor(
    private readonly client: RDSClient,
    readonly sourceName: string,
    /** Whether the copy keeps the source's deletion protection (a restore does; a drill clone must not). */
    private readonly keepDeletionProtection = true,
  ) {}

  private async describe(name: string): Promise<DBInstance | null> {
    try {
      const r = await this.client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: name }));
      return r.DBInstances?.[0] ?? null;
    } catch (e) {
      if (isNotFound(e)) return null;
      throw rdsError(`DescribeDBInstances of ${name}`, e);
    }
  }

  private sourceDb: DBInstance | null = null;

  async describeSource(): Promise<ManagedSource> {
    const db = await this.describe(this.sourceName);
    if (!db) throw runtimeError('rds_instance_not_found', `RDS instance ${this.sourceName} not found (in ${await this.region()})`, 'Check --rds and AWS_REGION');
    this.sourceDb = db;
    const label = `RDS instance ${this.sourceName}`;
    if (!db.BackupRetentionPeriod) {
      throw runtimeError('pitr_disabled', `${label} has automated backups off (backup retention 0 days), so it has no point-in-time window`, 'Set a backup retention period of at least 1 day');
    }
    return { label, instance: instanceOf(db), window: await this.window(db), carried: carriedSettings(db) };
  }

  private async region(): Promise<string> {
    try {
      return await this.client.config.region();
    } catch {
      return 'the configured region';
    }
  }

  private async window(db: DBInstance): Promise<RecoveryWindow> {
    const latest = db.LatestRestorableTime;
    if (!latest) throw runtimeError('pitr_window_unknown', `RDS reports no LatestRestorableTime for ${this.sourceName} yet (a new instance has none until its first backup ends)`);
    let backups;
    try {
      backups = await this.client.send(new DescribeDBInstanceAutomatedBackupsCommand({ DBInstanceIdentifier: this.sourceName }));
    } catch (e) {
      throw rdsError(`DescribeDBInstanceAutomatedBackups of ${this.sourceName}`, e);
    }
    const reported = (backups.DBInstanceAutomatedBackups ?? [])
      .filter((b) => b.DbiResourceId === undefined || db.DbiResourceId === undefined || b.DbiResourceId === db.DbiResourceId)
      .map((b) => b.RestoreWindow?.EarliestTime)
      .filter((t): t is Date => t instanceof Date);
    if (reported.length > 0) {
      const earliest = reported.reduce((a, b) => (a < b ? a : b));
      return { earliest, latest, latestReported: true, basis: "the automated backups' restore window" };
    }
    const byRetention = new Date(latest.getTime() - db.BackupRetentionPeriod! * DAY_MS);
    const created = db.InstanceCreateTime;
    const earliest = created && created > byRetention ? created : byRetention;
    return { earliest, latest, latestReported: true, basis: `backup retention ${db.BackupRetentionPeriod} days${created && created > byRetention ? ', since the instance was created' : ''}` };
  }

  async find(name: string): Promise<ManagedInstance | null> {
    const db = await this.describe(name);
    return db ? instanceOf(db) : null;
  }

  async startClone(name: string, target: Date, source: ManagedSource, labels: Record<string, string>): Promise<void> {
    const carried = source.carried as ReturnType<typeof carriedSettings>;
    const input: RestoreDBInstanceToPointInTimeCommandInput = {
      SourceDBInstanceIdentifier: this.sourceName,
      TargetDBInstanceIdentifier: name,
      RestoreTime: target,
      ...carried,
      DeletionProtection: this.keepDeletionProtection ? (this.sourceDb?.DeletionProtection ?? false) : false,
      Tags: Object.entries(labels).map(([Key, Value]) => ({ Key, Value })),
    };
    try {
      await this.client.send(new RestoreDBInstanceToPointInTimeCommand(input));
    } catch (e) {
      throw rdsError(`RestoreDBInstanceToPointInTime of ${this.sourceName} into ${name}`, e);
    }
  }

  async waitReady(name: string, progress: CloneProgress): Promise<ManagedInstance> {
    return pollUntil(
      `the restore into RDS instance ${name}`,
      async () => {
        const db = await this.describe(name);
        if (!db) throw runtimeError('managed_clone_failed', `RDS instance ${name} disappeared while it was being restored`);
        return instanceOf(db);
      },
      (i) => ({ ready: i.status === 'available' && i.endpoint !== null, status: i.status, failed: RDS_FAILED_STATUSES.has(i.status) ? `status "${i.status}"` : null }),
      progress,
    );
  }

  /**
   * Deletes a copy Lifeboat made. A copy can come out deletion-protected although the request said otherwise
   * (an emulator copying the source's flag; an account-wide default), so that protection, on Lifeboat's own
   * copy only, is lifted first when the delete is refused for it.
   */
  async deleteInstance(name: string): Promise<void> {
    const del = (): Promise<unknown> => this.client.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: name, SkipFinalSnapshot: true, DeleteAutomatedBackups: true }));
    try {
      await del();
    } catch (e) {
      if (isNotFound(e)) return;
      if (!/deletion protection/i.test(describeError(e))) throw rdsError(`DeleteDBInstance of ${name}`, e);
      try {
        await this.client.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: name, DeletionProtection: false, ApplyImmediately: true }));
        await del();
      } catch (e2) {
        throw rdsError(`DeleteDBInstance of ${name} (after lifting its deletion protection)`, e2);
      }
    }
  }

  async listByPrefix(prefix: string): Promise<ManagedInstance[]> {
    const out: ManagedInstance[] = [];
    try {
      for await (const page of paginateDescribeDBInstances({ client: this.client }, {})) {
        for (const db of page.DBInstances ?? []) if (db.DBInstanceIdentifier?.startsWith(prefix)) out.push(instanceOf(db));
      }
    } catch (e) {
      throw rdsError('DescribeDBInstances', e);
    }
    return out;
  }
}
