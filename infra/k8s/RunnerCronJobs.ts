/**
 * lifeboat:k8s:RunnerCronJobs: one hardened CronJob per runner task (cronJobSpec.ts builds and validates the shape).
 */
import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import type { RunnerIdentity, RunnerTask } from '../shared/taskPlan';
import { cronJobManifest, type CronJobOptions } from './cronJobSpec';

export interface RunnerCronJobsArgs {
  /** Namespace (an Output of the Namespace resource when the stack creates it, so the CronJobs wait for it). */
  namespace: pulumi.Input<string>;
  tasks: RunnerTask[];
  image: string;
  /** IANA time zone of every schedule. */
  timeZone: string;
  serviceAccounts: Record<RunnerIdentity, string>;
  /** Key holding the value inside each Secret. Default: `value`. */
  secretKey?: string;
  /** Secret whose keys become env (storage credentials). Default: none. */
  envFromSecret?: string;
  /** Default: 500m CPU and 1Gi requested, 2Gi memory limit. */
  resources?: CronJobOptions['resources'];
  /** Default: 20Gi. */
  scratchSize?: string;
  /** Default: 1800. */
  startingDeadlineSeconds?: number;
  /** Default: 1. */
  backoffLimit?: number;
  /** Default: 86400. */
  ttlSecondsAfterFinished?: number;
  /** Suspended CronJobs, started only by hand (the DR stack's restores). Default: false. */
  suspend?: boolean;
}

export class RunnerCronJobs extends pulumi.ComponentResource {
  public readonly cronJobs: Record<string, k8s.batch.v1.CronJob>;

  constructor(name: string, args: RunnerCronJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:k8s:RunnerCronJobs', name, {}, opts);
    if (!args.timeZone) throw new pulumi.ResourceError(`${name}: timeZone: expected an IANA time zone, got nothing`, this);
    const ids = new Set<string>();
    for (const t of args.tasks) {
      if (ids.has(t.id)) throw new pulumi.ResourceError(`${name}: tasks: expected unique ids, got "${t.id}" twice`, this);
      ids.add(t.id);
    }
    const options: Omit<CronJobOptions, 'namespace'> = {
      image: args.image,
      timeZone: args.timeZone,
      serviceAccounts: args.serviceAccounts,
      secretKey: args.secretKey ?? 'value',
      envFromSecret: args.envFromSecret,
      resources: args.resources ?? { cpuRequest: '500m', memoryRequest: '1Gi', memoryLimit: '2Gi' },
      scratchSize: args.scratchSize ?? '20Gi',
      startingDeadlineSeconds: args.startingDeadlineSeconds ?? 1800,
      backoffLimit: args.backoffLimit ?? 1,
      ttlSecondsAfterFinished: args.ttlSecondsAfterFinished ?? 86400,
      suspend: args.suspend ?? false,
    };
    this.cronJobs = {};
    for (const task of args.tasks) {
      let manifest;
      try {
        // Built with a placeholder namespace: the real one may be an Output, set below.
        manifest = cronJobManifest(task, { ...options, namespace: 'placeholder' });
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
