/**
 * Point-in-time recovery on an AWS stack (lifeboat:pitr): the tasks (a drill of each RDS instance, heartbeats, and
 * for a database without an instance, the archiving check), the drill role's RDS rights and the alarms. Kept out of
 * aws.ts so that adapter only gains two calls.
 */
import type * as pulumi from '@pulumi/pulumi';
import type { LifeboatConfig } from '../config/load';
import { longestGapSeconds } from '../config/pitr';
import { durationSeconds } from '../config/values';
import { pitrTasks, type PitrDatabaseInput } from '../shared/pitrTasks';
import type { RunnerTask } from '../shared/taskPlan';
import { PitrAlarms } from '../aws/PitrAlarms';
import { PitrDrillAccess } from '../aws/PitrDrillAccess';

export function pitrDatabasesOf(cfg: LifeboatConfig): PitrDatabaseInput[] {
  return cfg.databases.map((d) => ({
    name: d.name,
    target: d.instance ? { kind: 'rds' as const, identifier: d.instance.name } : { kind: 'self-hosted' as const },
    secrets: { databaseUrl: d.secrets.databaseUrl },
  }));
}

/** The PITR tasks of an AWS stack: the self-hosted drill runs beside the database there (docs/pitr.md). */
export function awsPitrTasks(cfg: LifeboatConfig, storageUrl: string, drillTimeoutSeconds: number): RunnerTask[] {
  return pitrTasks({ storageUrl, pitr: cfg.pitr, databases: pitrDatabasesOf(cfg), drillTimeoutSeconds, selfHostedDrill: false });
}

export interface AwsPitrWiring {
  region: string;
  accountId: string;
  namePrefix: string;
  tasks: RunnerTask[];
  drillRole: pulumi.Input<string>;
  logGroupName: pulumi.Input<string>;
  logGroupDisplayName: string;
  namespace: string;
  topicArns: pulumi.Input<string>[];
  tags: Record<string, string>;
}

/** The drill role's RDS rights and the PITR alarms, when the stack schedules PITR tasks. */
export function buildAwsPitr(cfg: LifeboatConfig, w: AwsPitrWiring): void {
  const pitr = w.tasks.filter((t) => t.kind.startsWith('pitr-'));
  if (pitr.length === 0) return;
  const drilled = cfg.databases.filter((d) => d.instance && pitr.some((t) => t.kind === 'pitr-drill' && t.source === d.name));
  if (drilled.length) {
    new PitrDrillAccess(`${w.namePrefix}-pitr-drill-access`, {
      region: w.region,
      accountId: w.accountId,
      role: w.drillRole,
      sourceIdentifiers: drilled.map((d) => d.instance!.name),
    });
  }
  const windowSeconds = longestGapSeconds(cfg.pitr.drillCron) + durationSeconds(cfg.pitr.drillSlack);
  new PitrAlarms(`${w.namePrefix}-pitr-alarms`, {
    region: w.region,
    logGroupName: w.logGroupName,
    logGroupDisplayName: w.logGroupDisplayName,
    namespace: w.namespace,
    sources: cfg.pitr.databases.map((source) => ({
      source,
      drillWindowSeconds: windowSeconds,
      drills: pitr.some((t) => t.kind === 'pitr-drill' && t.source === source),
    })),
    archiving: pitr.some((t) => t.kind === 'pitr-archiving'),
    topicArns: w.topicArns,
    tags: w.tags,
  });
}
