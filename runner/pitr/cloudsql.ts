/**
 * Point-in-time recovery on Cloud SQL through Google's official typed client (@googleapis/sqladmin, v1):
 * `instances.clone` with `cloneContext.pointInTime` makes a new instance from the source's backups and logs
 * (the clone takes the source's settings, network included); Lifeboat waits on the operation, then on the
 * instance, and labels the copy. The source is only read (`instances.clone` is addressed to it but changes
 * nothing in it).
 *
 * The window: point-in-time recovery must be on (pointInTimeRecoveryEnabled for PostgreSQL and SQL Server,
 * binaryLogEnabled for MySQL); the earliest point is the later of the end of the oldest successful backup run
 * and now minus transactionLogRetentionDays (and of the API's earliestRecoveryTime when it reports one); the
 * latest is getLatestRecoveryTime, or now when that method is not available.
 */
import type { sqladmin_v1 } from '@googleapis/sqladmin';
import { describeError, runtimeError, usageError } from '../errors';
import { pollUntil, type CloneProgress, type ManagedInstance, type ManagedPitrProvider, type ManagedSource, type RecoveryWindow } from './managed';

const DAY_MS = 86_400_000;

/** PROJECT:INSTANCE, as gcloud and connection names write it (a region in between is accepted and ignored). */
export function parseCloudSqlInstance(flag: string, value: string): { project: string; instance: string } {
  const parts = value.split(':');
  const [project, instance] = parts.length === 3 ? [parts[0], parts[2]] : parts.length === 2 ? [parts[0], parts[1]] : [undefined, undefined];
  // Project ids (6-30, possibly domain-scoped "example.com:proj") are not checked strictly: the API says no.
  if (!project || !instance || !/^[a-z][a-z0-9-]{0,97}$/.test(instance)) {
    throw usageError('cloudsql_instance_invalid', `${flag} expected PROJECT:INSTANCE (e.g. acme-prod:shop), got ${JSON.stringify(value)}`);
  }
  return { project, instance };
}

/** Cloud SQL label values: lowercase letters, digits, "_" and "-", at most 63. */
export function labelValue(v: string): string {
  return v.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').slice(0, 63);
}

function httpStatus(e: unknown): number | undefined {
  const r = e as { status?: number; code?: number | string; response?: { status?: number } };
  return r?.response?.status ?? r?.status ?? (typeof r?.code === 'number' ? r.code : undefined);
}

function apiError(what: string, e: unknown): Error {
  return runtimeError('cloudsql_request_failed', `Cloud SQL Admin API ${what} failed: ${describeError(e)}`, undefined, e);
}

/** Cloud SQL listens on the engine's standard port. */
function enginePort(version: string | null | undefined): number {
  if (version?.startsWith('MYSQL')) return 3306;
  if (version?.startsWith('SQLSERVER')) return 1433;
  return 5432;
}

function instanceOf(db: sqladmin_v1.Schema$DatabaseInstance): ManagedInstance {
  const ips = db.ipAddresses ?? [];
  // A private address where there is one: jobs run inside the VPC; else the public one.
  const ip = ips.find((a) => a.type === 'PRIVATE') ?? ips.find((a) => a.type === 'PRIMARY');
  return {
    name: db.name ?? '',
    status: db.state ?? 'UNKNOWN',
    endpoint: ip?.ipAddress ? { host: ip.ipAddress, port: enginePort(db.databaseVersion) } : null,
    labels: { ...(db.settings?.userLabels ?? {}) },
  };
}

export class CloudSqlPitr implements ManagedPitrProvider {
  readonly kind = 'cloudsql' as const;
  readonly sourceName: string;

  constructor(
    private readonly api: sqladmin_v1.Sqladmin,
    readonly project: string,
    readonly instance: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.sourceName = `${project}:${instance}`;
  }

  private async get(name: string): Promise<sqladmin_v1.Schema$DatabaseInstance | null> {
    try {
      return (await this.api.instances.get({ project: this.project, instance: name })).data;
    } catch (e) {
      if (httpStatus(e) === 404) return null;
      throw apiError(`instances.get of ${this.project}:${name}`, e);
    }
  }

  async describeSource(): Promise<ManagedSource> {
    const db = await this.get(this.instance);
    const label = `Cloud SQL instance ${this.sourceName}`;
    if (!db) throw runtimeError('cloudsql_instance_not_found', `${label} not found`, 'Check --cloudsql (PROJECT:INSTANCE) and that the credentials may read it');
    return { label, instance: instanceOf(db), window: await this.window(db, label), carried: { databaseVersion: db.databaseVersion, region: db.region, tier: db.settings?.tier } };
  }

  private async window(db: sqladmin_v1.Schema$DatabaseInstance, label: string): Promise<RecoveryWindow> {
    const b = db.settings?.backupConfiguration;
    const mysql = (db.databaseVersion ?? '').startsWith('MYSQL');
    const pitrOn = !!b?.enabled && (mysql ? !!b.binaryLogEnabled : !!b.pointInTimeRecoveryEnabled);
    if (!pitrOn) {
      throw runtimeError(
        'pitr_disabled',
        `${label} has point-in-time recovery off (backups ${b?.enabled ? 'on' : 'off'}, ${mysql ? 'binaryLogEnabled' : 'pointInTimeRecoveryEnabled'} ${pitrOn ? 'true' : 'false'}), so it has no window`,
        'Turn on backups and point-in-time recovery for it (the Lifeboat GCP stack does)',
      );
    }
    const now = this.now();
    let latest = now;
    let latestReported = false;
    let reportedEarliest: Date | null = null;
    try {
      const r = (await this.api.projects.instances.getLatestRecoveryTime({ project: this.project, instance: this.instance })).data;
      if (r.latestRecoveryTime) {
        latest = new Date(r.latestRecoveryTime);
        latestReported = true;
      }
      if (r.earliestRecoveryTime) reportedEarliest = new Date(r.earliestRecoveryTime);
    } catch (e) {
      if (httpStatus(e) !== 404 && httpStatus(e) !== 501) throw apiError(`getLatestRecoveryTime of ${this.sourceName}`, e);
    }
    const runs: sqladmin_v1.Schema$BackupRun[] = [];
    let pageToken: string | undefined;
    try {
      do {
        const r = (await this.api.backupRuns.list({ project: this.project, instance: this.instance, pageToken, maxResults: 500 })).data;
        runs.push(...(r.items ?? []));
        pageToken = r.nextPageToken ?? undefined;
      } while (pageToken);
    } catch (e) {
      throw apiError(`backupRuns.list of ${this.sourceName}`, e);
    }
    const ends = runs.filter((r) => r.status === 'SUCCESSFUL' && r.endTime).map((r) => new Date(r.endTime!));
    if (ends.length === 0) throw runtimeError('pitr_no_backup', `${label} has no successful backup yet, so it has no point-in-time window`);
    const oldestBackupEnd = ends.reduce((x, y) => (x < y ? x : y));
    const retentionDays = b?.transactionLogRetentionDays ?? 7;
    const byRetention = new Date(now.getTime() - retentionDays * DAY_MS);
    const candidates: Array<[Date, string]> = [
      [oldestBackupEnd, 'the end of the oldest backup'],
      [byRetention, `transaction log retention ${retentionDays} days`],
    ];
    if (reportedEarliest) candidates.push([reportedEarliest, 'the earliest recovery time the API reports']);
    const [earliest, why] = candidates.reduce((x, y) => (x[0] > y[0] ? x : y));
    return { earliest, latest, latestReported, basis: `from ${why} to ${latestReported ? 'the latest recovery time' : 'now'}` };
  }

  async find(name: string): Promise<ManagedInstance | null> {
    const db = await this.get(name);
    return db ? instanceOf(db) : null;
  }

  private operations = new Map<string, string>();
  private pendingLabels = new Map<string, Record<string, string>>();

  async startClone(name: string, target: Date, _source: ManagedSource, labels: Record<string, string>): Promise<void> {
    this.pendingLabels.set(name, labels);
    try {
      const op = (
        await this.api.instances.clone({
          project: this.project,
          instance: this.instance,
          requestBody: { cloneContext: { kind: 'sql#cloneContext', destinationInstanceName: name, pointInTime: target.toISOString() } },
        })
      ).data;
      if (op.name) this.operations.set(name, op.name);
    } catch (e) {
      throw apiError(`instances.clone of ${this.sourceName} into ${name}`, e);
    }
  }

  private async waitOperation(opName: string, what: string, progress: CloneProgress): Promise<void> {
    await pollUntil(
      what,
      async () => {
        try {
          return (await this.api.operations.get({ project: this.project, operation: opName })).data;
        } catch (e) {
          throw apiError(`operations.get of ${opName}`, e);
        }
      },
      (op) => ({
        ready: op.status === 'DONE' && !op.error?.errors?.length,
        status: `operation ${op.status ?? 'UNKNOWN'}`,
        failed: op.error?.errors?.length ? op.error.errors.map((x) => `${x.code ?? ''} ${x.message ?? ''}`.trim()).join('; ') : null,
      }),
      progress,
    );
  }

  /** Waits on the clone operation, then on the instance, then labels it (a clone can only be labelled once it exists). */
  async waitReady(name: string, progress: CloneProgress): Promise<ManagedInstance> {
    const labels = this.pendingLabels.get(name) ?? {};
    const opName = this.operations.get(name);
    if (opName) await this.waitOperation(opName, `the clone of ${this.sourceName} into ${name}`, progress);
    const ready = await pollUntil(
      `the clone ${this.project}:${name}`,
      async () => {
        const db = await this.get(name);
        if (!db) throw runtimeError('managed_clone_failed', `the clone ${this.project}:${name} does not exist (its clone operation ended without it)`);
        return db;
      },
      (db) => ({ ready: db.state === 'RUNNABLE', status: db.state ?? 'UNKNOWN', failed: db.state === 'FAILED' || db.state === 'SUSPENDED' ? `state ${db.state}` : null }),
      progress,
    );
    if (Object.keys(labels).length > 0) {
      const userLabels = { ...(ready.settings?.userLabels ?? {}), ...Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, labelValue(v)])) };
      try {
        const op = (await this.api.instances.patch({ project: this.project, instance: name, requestBody: { settings: { userLabels } } })).data;
        if (op.name) await this.waitOperation(op.name, `labelling ${this.project}:${name}`, progress);
      } catch (e) {
        if (e instanceof Error && 'code' in e && typeof (e as { code: unknown }).code === 'string') throw e;
        throw apiError(`instances.patch (labels) of ${this.project}:${name}`, e);
      }
      ready.settings = { ...(ready.settings ?? {}), userLabels };
    }
    return instanceOf(ready);
  }

  async deleteInstance(name: string): Promise<void> {
    try {
      await this.api.instances.delete({ project: this.project, instance: name });
    } catch (e) {
      if (httpStatus(e) === 404) return;
      throw apiError(`instances.delete of ${this.project}:${name}`, e);
    }
  }

  async listByPrefix(prefix: string): Promise<ManagedInstance[]> {
    const out: ManagedInstance[] = [];
    let pageToken: string | undefined;
    try {
      do {
        const r = (await this.api.instances.list({ project: this.project, pageToken, maxResults: 500 })).data;
        for (const db of r.items ?? []) if (db.name?.startsWith(prefix)) out.push(instanceOf(db));
        pageToken = r.nextPageToken ?? undefined;
      } while (pageToken);
    } catch (e) {
      throw apiError('instances.list', e);
    }
    return out;
  }
}
