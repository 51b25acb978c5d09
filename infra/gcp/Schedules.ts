import * as pulumi from '@pulumi/pulumi';
import * as gcp from '@pulumi/gcp';
import { isCron } from '../config/values';

export interface ScheduledJob {
  /** Key used in child names (`<source>-<task>`). */
  key: string;
  /** The Cloud Run job. */
  job: gcp.cloudrunv2.Job;
  /** 5-field cron. */
  schedule: string;
}

export interface SchedulesArgs {
  project: string;
  region: string;
  /** IANA time zone of every schedule. */
  timeZone: string;
  /** The scheduler identity's email (its OAuth token calls the Cloud Run Admin API). */
  schedulerEmail: pulumi.Input<string>;
  jobs: ScheduledJob[];
  /** Scheduler retries of a failed API call. Default: 2. */
  retries?: number;
  /** Paused schedules (ephemeral stacks may keep them off). Default: false. */
  paused?: boolean;
}

/** The Cloud Run Admin API v2 call that starts one execution of a job. */
export function runJobUri(project: string, region: string, job: string): string {
  return `https://run.googleapis.com/v2/projects/${project}/locations/${region}/jobs/${job}:run`;
}

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/**
 * Cloud Scheduler jobs that run the runner jobs through the Cloud Run Admin API with an OAuth token of the
 * scheduler identity, which gets `roles/run.invoker` on exactly these jobs and nothing else.
 */
export class Schedules extends pulumi.ComponentResource {
  constructor(name: string, args: SchedulesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:gcp:Schedules', name, {}, opts);
    if (!args.timeZone) throw new pulumi.ResourceError(`Schedules ${name}: timeZone is required (explicit, never the default)`, this);
    for (const j of args.jobs) {
      if (!isCron(j.schedule)) throw new pulumi.ResourceError(`Schedules ${name}: ${j.key} schedule must be a 5-field cron, got ${JSON.stringify(j.schedule)}`, this);
      const invoker = new gcp.cloudrunv2.JobIamMember(`${name}-${j.key}-invoker`, {
        project: args.project,
        location: args.region,
        name: j.job.name,
        role: 'roles/run.invoker',
        member: pulumi.interpolate`serviceAccount:${args.schedulerEmail}`,
      }, { parent: this });
      new gcp.cloudscheduler.Job(`${name}-${j.key}`, {
        project: args.project,
        region: args.region,
        name: pulumi.interpolate`${j.job.name}`,
        description: pulumi.interpolate`Runs Cloud Run job ${j.job.name}`,
        schedule: j.schedule,
        timeZone: args.timeZone,
        paused: args.paused ?? false,
        attemptDeadline: '180s',
        retryConfig: { retryCount: args.retries ?? 2, minBackoffDuration: '30s', maxBackoffDuration: '300s' },
        httpTarget: {
          httpMethod: 'POST',
          uri: j.job.name.apply((job) => runJobUri(args.project, args.region, job)),
          oauthToken: { serviceAccountEmail: args.schedulerEmail, scope: CLOUD_PLATFORM_SCOPE },
        },
      }, { parent: this, dependsOn: [invoker] });
    }
    this.registerOutputs({});
  }
}
