/**
 * lifeboat:k8s:PitrDrillCronJobs: one CronJob per self-hosted PITR drill (pitrDrillSpec.ts says why it is a
 * CronJob of its own and why `pitr backup` is not one).
 */
import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import type { RunnerIdentity, RunnerTask } from '../shared/taskPlan';
import type { CronJobOptions } from './cronJobSpec';
import { pitrDrillCronJobManifest } from './pitrDrillSpec';

export interface PitrDrillCronJobsArgs {
  namespace: pulumi.Input<string>;
  /** The `pitr-drill` tasks (infra/shared/pitrTasks.ts). */
  tasks: RunnerTask[];
  /** An image with the runner, pgBackRest and the PostgreSQL server of the cluster's major. */
  drillImage: string;
  /** The Secret holding each source's pgBackRest configuration, by source. */
  configSecrets: Record<string, string>;
  timeZone: string;
  serviceAccounts: Record<RunnerIdentity, string>;
  /** Key holding the value inside each Secret. Default: `value`. */
  secretKey?: string;
  /** Default: 500m CPU and 1Gi requested, 2Gi memory limit. */
  resources?: CronJobOptions['resources'];
  /** Size of /tmp, where the drill restores the whole cluster. Default: 20Gi. */
  scratchSize?: string;
  /** Default: 1800. */
  startingDeadlineSeconds?: number;
  /** Default: 1. */
  backoffLimit?: number;
  /** Default: 86400. */
  ttlSecondsAfterFinished?: number;
}

export class PitrDrillCronJobs extends pulumi.ComponentResource {
  public readonly cronJobs: Record<string, k8s.batch.v1.CronJob>;

  constructor(name: string, args: PitrDrillCronJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:k8s:PitrDrillCronJobs', name, {}, opts);
    if (!args.drillImage) throw new pulumi.ResourceError(`${name}: drillImage: expected an image with pgBackRest and the PostgreSQL server, got nothing`, this);
    this.cronJobs = {};
    for (const task of args.tasks) {
      const configSecret = args.configSecrets[task.source];
      if (!configSecret) throw new pulumi.ResourceError(`${name}: configSecrets: expected the Secret of ${task.source}'s pgBackRest configuration, got nothing`, this);
      let manifest;
      try {
        manifest = pitrDrillCronJobManifest(task, {
          namespace: 'placeholder',
          image: args.drillImage,
          drillImage: args.drillImage,
          configSecret,
          timeZone: args.timeZone,
          serviceAccounts: args.serviceAccounts,
          secretKey: args.secretKey ?? 'value',
          resources: args.resources ?? { cpuRequest: '500m', memoryRequest: '1Gi', memoryLimit: '2Gi' },
          scratchSize: args.scratchSize ?? '20Gi',
          startingDeadlineSeconds: args.startingDeadlineSeconds ?? 1800,
          backoffLimit: args.backoffLimit ?? 1,
          ttlSecondsAfterFinished: args.ttlSecondsAfterFinished ?? 86400,
        });
      } catch (e) {
        throw new pulumi.ResourceError(`${name}: ${(e as Error).message}`, this);
      }
      this.cronJobs[task.id] = new k8s.batch.v1.CronJob(
        `${name}-${task.id}`,
        { metadata: { ...manifest.metadata, namespace: args.namespace }, spec: manifest.spec },
        { parent: this },
      );
    }
    this.registerOutputs({ cronJobs: Object.keys(this.cronJobs) });
  }
}
