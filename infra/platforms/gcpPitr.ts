/**
 * Point-in-time recovery on a GCP stack (lifeboat:pitr): the PITR drill and heartbeat jobs of each Cloud SQL
 * instance, the drill identity's Cloud SQL rights and the alerts. Kept out of gcp.ts so that adapter only gains a
 * few calls.
 */
import type * as pulumi from '@pulumi/pulumi';
import type { LifeboatConfig } from '../config/load';
import type { GcpConfig } from '../config/gcp';
import { longestGapSeconds } from '../config/pitr';
import { durationSeconds } from '../config/values';
import { PitrDrillAccess } from '../gcp/PitrDrillAccess';
import { PitrDrillAlerts } from '../gcp/PitrDrillAlerts';
import { pitrJobSpecs } from '../gcp/pitrJobs';
import type { TaskSpec } from '../gcp/taskSpecs';

/** The PITR job specs of the stack. */
export function gcpPitrTasks(cfg: LifeboatConfig, gcp: GcpConfig, storage: string): TaskSpec[] {
  return cfg.databases.flatMap((d) => pitrJobSpecs(d, gcp.project, cfg.pitr, storage));
}

/** Secrets the restore identity reads for the PITR drills (the databases' URLs). */
export function gcpPitrRestoreSecrets(cfg: LifeboatConfig): string[] {
  return cfg.databases.filter((d) => cfg.pitr.databases.includes(d.name)).map((d) => d.secrets.databaseUrl);
}

export interface GcpPitrWiring {
  tasks: TaskSpec[];
  drillServiceAccount: pulumi.Input<string>;
  channels: pulumi.Input<string>[];
  labels: Record<string, string>;
}

export function buildGcpPitr(cfg: LifeboatConfig, gcp: GcpConfig, w: GcpPitrWiring): void {
  const drilled = cfg.databases.filter((d) => d.instance && w.tasks.some((t) => t.task === 'pitr-drill' && t.source === d.name));
  if (drilled.length === 0) return;
  new PitrDrillAccess('pitr-drill-access', {
    project: gcp.project,
    prefix: cfg.namePrefix,
    serviceAccountEmail: w.drillServiceAccount,
    sourceInstances: drilled.map((d) => d.instance!.name),
  });
  new PitrDrillAlerts('pitr-alerts', {
    project: gcp.project,
    region: gcp.region,
    prefix: cfg.namePrefix,
    sources: drilled.map((d) => d.name),
    drillWindowSeconds: longestGapSeconds(cfg.pitr.drillCron) + durationSeconds(cfg.pitr.drillSlack),
    channels: w.channels,
    labels: w.labels,
  });
}
