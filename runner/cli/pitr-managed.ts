/**
 * Flags `pitr restore` and `pitr drill` share for managed databases: --rds or --cloudsql, --timeout, and the
 * clouds' official clients built from the usual environment (AWS_REGION and the AWS chain; Google's
 * Application Default Credentials). The SDKs are loaded only when a managed database is named.
 */
import type { Command } from 'commander';
import type { RunContext } from '../context';
import { usageError } from '../errors';
import type { ManagedKind, ManagedPitrProvider } from '../pitr/managed';
import { parseDuration } from './options';

export const DEFAULT_MANAGED_TIMEOUT = '2h';

export interface ManagedFlags {
  rds?: string;
  cloudsql?: string;
  timeout?: string;
}

export function addManagedOptions(cmd: Command, verb: string): Command {
  return cmd
    .option('--rds <identifier>', `${verb} an RDS instance (its DBInstanceIdentifier)`)
    .option('--cloudsql <project:instance>', `${verb} a Cloud SQL instance`)
    .option('--timeout <duration>', `how long to wait for the new instance to be ready (default ${DEFAULT_MANAGED_TIMEOUT})`);
}

/** Exactly one of the ways to name what to recover; `others` are the self-hosted flags given (e.g. --pgdata). */
export function managedTargetFrom(flags: ManagedFlags, others: Record<string, boolean>): { kind: ManagedKind; value: string } | null {
  const given = [...(flags.rds !== undefined ? ['--rds'] : []), ...(flags.cloudsql !== undefined ? ['--cloudsql'] : []), ...Object.entries(others).filter(([, v]) => v).map(([k]) => k)];
  const all = ['--rds', '--cloudsql', ...Object.keys(others)];
  if (given.length > 1) throw usageError('pitr_target_ambiguous', `expected exactly one of ${all.join(', ')}, got ${given.join(' and ')}`);
  if (flags.rds !== undefined) {
    if (!RDS_IDENTIFIER.test(flags.rds)) throw usageError('rds_identifier_invalid', `--rds expected a DBInstanceIdentifier (a letter, then letters, digits and single hyphens, at most 63), got ${JSON.stringify(flags.rds)}`);
    return { kind: 'rds', value: flags.rds };
  }
  if (flags.cloudsql !== undefined) return { kind: 'cloudsql', value: flags.cloudsql };
  return null;
}

/** RDS instance identifiers: 1-63, a letter first, letters/digits/hyphens, no "--", no hyphen at the end. */
export const RDS_IDENTIFIER = /^(?!.*--)[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** Cloud SQL instance names: a lowercase letter first, lowercase letters/digits/hyphens, no hyphen at the end. */
export const CLOUDSQL_INSTANCE = /^[a-z](?:[a-z0-9-]{0,96}[a-z0-9])?$/;

export function checkInstanceName(kind: ManagedKind, flag: string, name: string): void {
  const ok = kind === 'rds' ? RDS_IDENTIFIER.test(name) : CLOUDSQL_INSTANCE.test(name);
  if (!ok) {
    throw usageError(
      'instance_name_invalid',
      `${flag} expected ${kind === 'rds' ? 'an RDS identifier (a letter, then letters, digits and single hyphens, at most 63)' : 'a Cloud SQL instance name (a lowercase letter, then lowercase letters, digits and hyphens)'}, got ${JSON.stringify(name)}`,
    );
  }
}

export function timeoutMsFrom(flags: ManagedFlags): number {
  return parseDuration('--timeout', flags.timeout ?? DEFAULT_MANAGED_TIMEOUT) * 1000;
}

/**
 * The provider over the cloud's official client. `forDrill`: an RDS drill clone never keeps the source's
 * deletion protection (it must be deletable at the end).
 */
export async function openManagedProvider(target: { kind: ManagedKind; value: string }, ctx: RunContext, forDrill: boolean): Promise<ManagedPitrProvider> {
  if (target.kind === 'rds') {
    const { RDSClient } = await import('@aws-sdk/client-rds');
    const { RdsPitr } = await import('../pitr/rds');
    const region = ctx.env.AWS_REGION || ctx.env.AWS_DEFAULT_REGION || undefined;
    return new RdsPitr(new RDSClient({ region }), target.value, !forDrill);
  }
  const { parseCloudSqlInstance, CloudSqlPitr } = await import('../pitr/cloudsql');
  const { project, instance } = parseCloudSqlInstance('--cloudsql', target.value);
  const { sqladmin, auth } = await import('@googleapis/sqladmin');
  const api = sqladmin({ version: 'v1', auth: new auth.GoogleAuth({ scopes: ['https://www.googleapis.com/auth/sqlservice.admin'] }) });
  return new CloudSqlPitr(api, project, instance, () => ctx.now());
}
