import { ENV } from '../../runner/contract/env';
import * as pulumi from '@pulumi/pulumi';
import * as gcp from '@pulumi/gcp';
import type { TaskSpec } from './taskSpecs';
import { durationSeconds } from '../config/values';
import { lifeboatLabels } from './labels';
import { ARTIFACT_REGISTRY_READER, artifactRegistryOf, cloudRunServiceAgent } from './imageRegistry';

export interface JobSizing {
  cpu: string;
  memory: string;
  /** Task timeout for backups and status ("2h"). */
  timeout: string;
  /** Task timeout for drills and restores ("4h"). */
  restoreTimeout: string;
  maxRetries: number;
}

export interface RunnerJobsArgs {
  project: string;
  region: string;
  /** Job names are `<prefix>-<source>-<task>`. */
  prefix: string;
  image: string;
  tasks: TaskSpec[];
  /** Service account emails per identity. */
  identities: { backup?: pulumi.Input<string>; restore: pulumi.Input<string> };
  /** Cloud SQL connection names per source (tasks with `cloudSql`). Default: {}. */
  connectionNames?: Record<string, pulumi.Input<string>>;
  sizing: JobSizing;
  /** Secret to read the age identity from for drills and restores. Default: none. */
  ageIdentitySecret?: string;
  /** Default: true. */
  deletionProtection?: boolean;
  /** Default: false. */
  ephemeral?: boolean;
  /** Default: {}. */
  labels?: Record<string, string>;
  /** Resources the jobs wait for (secret bindings, so a first run can read its secrets). Default: []. */
  after?: pulumi.Resource[];
  /** What provider functions wait for (the project's APIs). Default: []. */
  servicesReady?: pulumi.Resource[];
  /** VPC of the tasks with `vpc` (Direct VPC egress to private ranges). Default: none. */
  network?: { network: string; subnetwork: string };
}

/** Cloud Run v2 job name for a task. */
export function jobName(prefix: string, source: string, task: string): string {
  return `${prefix}-${source}-${task}`;
}

/** The task timeout as Cloud Run takes it ("7200s"). */
export function taskTimeout(task: TaskSpec, sizing: JobSizing): string {
  const long = task.task === 'drill' || task.task === 'restore' || task.task === 'redis-restore' || task.task === 'pitr-drill';
  return `${durationSeconds(long ? sizing.restoreTimeout : sizing.timeout)}s`;
}

/** One Cloud Run job per source and task, running the runner image under the task's identity. */
export class RunnerJobs extends pulumi.ComponentResource {
  readonly jobs: Record<string, gcp.cloudrunv2.Job> = {};

  constructor(name: string, args: RunnerJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:gcp:RunnerJobs', name, {}, opts);
    if (!args.image) throw new pulumi.ResourceError(`RunnerJobs ${name}: image is required`, this);
    const ephemeral = args.ephemeral ?? false;
    // Cloud Run pulls the image with the project's Cloud Run service agent, which may read Artifact Registry in its
    // own project only: an image in another project's registry (staging and review stacks run prod's image) needs
    // a reader grant on that repository. The grant is shared by every stack of the project (every review stack has
    // the same agent), so no stack removes it on destroy (retainOnDelete): one stack's destroy must not break the
    // others' pulls. The deploying identity needs artifactregistry.repositories.setIamPolicy on that repository.
    const pull: pulumi.Resource[] = [];
    const registry = artifactRegistryOf(args.image);
    if (registry && registry.project !== args.project) {
      const number = gcp.organizations.getProjectOutput({ projectId: args.project }, { parent: this, dependsOn: args.servicesReady ?? [] }).number;
      pull.push(new gcp.artifactregistry.RepositoryIamMember(`${name}-image-reader`, {
        project: registry.project,
        location: registry.location,
        repository: registry.repository,
        role: ARTIFACT_REGISTRY_READER,
        member: number.apply((n) => cloudRunServiceAgent(n)),
      }, { parent: this, retainOnDelete: true }));
    }
    for (const t of args.tasks) {
      const key = `${t.source}-${t.task}`;
      const sa = t.identity === 'backup' ? args.identities.backup : args.identities.restore;
      if (!sa) throw new pulumi.ResourceError(`RunnerJobs ${name}: task ${key} needs the ${t.identity} identity`, this);
      const connection = t.cloudSql ? args.connectionNames?.[t.source] : undefined;
      if (t.cloudSql && !connection) throw new pulumi.ResourceError(`RunnerJobs ${name}: task ${key} needs a Cloud SQL connection name for ${t.source}`, this);
      if (t.vpc && !args.network) throw new pulumi.ResourceError(`RunnerJobs ${name}: task ${key} needs a VPC (network)`, this);
      const secretEnv = { ...t.secretEnv };
      // Only commands that decrypt backups read the age identity (not status, not the PITR jobs).
      if (args.ageIdentitySecret && (t.task === 'drill' || t.task === 'restore' || t.task === 'redis-restore')) secretEnv[ENV.ageIdentity] = args.ageIdentitySecret;
      const envs = [
        ...Object.entries(t.env).map(([n, value]) => ({ name: n, value })),
        ...Object.entries(secretEnv).map(([n, secret]) => ({ name: n, valueSource: { secretKeyRef: { secret, version: 'latest' } } })),
      ];
      this.jobs[key] = new gcp.cloudrunv2.Job(`${name}-${key}`, {
        project: args.project,
        location: args.region,
        name: jobName(args.prefix, t.source, t.task),
        deletionProtection: args.deletionProtection ?? true,
        labels: lifeboatLabels(args.labels ?? {}, ephemeral, { 'lifeboat-source': t.source, 'lifeboat-task': t.task }),
        template: {
          taskCount: 1,
          parallelism: 1,
          template: {
            serviceAccount: sa,
            timeout: taskTimeout(t, args.sizing),
            // Exit 1 may be retried; a retry after exit 2 (bad config) fails the same way and is cheap.
            maxRetries: args.sizing.maxRetries,
            containers: [{
              image: args.image,
              args: t.args,
              envs,
              resources: { limits: { cpu: args.sizing.cpu, memory: args.sizing.memory } },
              ...(connection ? { volumeMounts: [{ name: 'cloudsql', mountPath: '/cloudsql' }] } : {}),
            }],
            ...(connection ? { volumes: [{ name: 'cloudsql', cloudSqlInstance: { instances: [connection] } }] } : {}),
            ...(t.vpc && args.network
              ? { vpcAccess: { egress: 'PRIVATE_RANGES_ONLY', networkInterfaces: [{ network: args.network.network, subnetwork: args.network.subnetwork }] } }
              : {}),
          },
        },
      }, { parent: this, dependsOn: [...(args.after ?? []), ...pull] });
    }
    this.registerOutputs({ jobNames: Object.fromEntries(Object.entries(this.jobs).map(([k, j]) => [k, j.name])) });
  }
}
