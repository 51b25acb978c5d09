import * as pulumi from '@pulumi/pulumi';
import * as gcp from '@pulumi/gcp';

/** What a stack uses, which decides the Google APIs it needs. */
export interface ServiceNeeds {
  /** Cloud SQL instances (sqladmin). */
  cloudSql: boolean;
  /** Cloud Scheduler jobs. */
  schedules: boolean;
  /** Log-based metrics, alert policies and the dashboard. */
  alerts: boolean;
  /** The DR copy by Storage Transfer cross-bucket replication (event driven: Pub/Sub). */
  replication: boolean;
  /** Memorystore for Redis (and the VPC it is reached through). */
  memorystore?: boolean;
}

/**
 * The Google APIs a stack's resources need, sorted. Every stack: Cloud Run (the jobs), Secret Manager, IAM and
 * Resource Manager (grants), Cloud Storage, Cloud Logging (the jobs' logs).
 */
export function requiredServices(needs: ServiceNeeds): string[] {
  const apis = new Set([
    'run.googleapis.com',
    'secretmanager.googleapis.com',
    'iam.googleapis.com',
    'cloudresourcemanager.googleapis.com',
    'storage.googleapis.com',
    'logging.googleapis.com',
  ]);
  if (needs.cloudSql) apis.add('sqladmin.googleapis.com');
  if (needs.schedules) apis.add('cloudscheduler.googleapis.com');
  if (needs.alerts) apis.add('monitoring.googleapis.com');
  if (needs.replication) {
    apis.add('storagetransfer.googleapis.com');
    apis.add('pubsub.googleapis.com');
  }
  if (needs.memorystore) {
    apis.add('redis.googleapis.com');
    apis.add('compute.googleapis.com');
  }
  return [...apis].sort();
}

export interface ProjectServicesArgs {
  project: string;
  /** API names, e.g. `run.googleapis.com` (see requiredServices). */
  services: string[];
}

/**
 * Enables the Google APIs a stack needs in its project, so a new project deploys in one `pulumi up`. They are never
 * disabled again: other stacks and whatever else runs in the project may use them (`disableOnDestroy: false`, and
 * `retainOnDelete` so destroying the stack only forgets them). Enabling needs the Service Usage API, which every
 * project has unless someone switched it off.
 */
export class ProjectServices extends pulumi.ComponentResource {
  readonly services: gcp.projects.Service[];

  constructor(name: string, args: ProjectServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:gcp:ProjectServices', name, {}, opts);
    if (!args.project) throw new pulumi.ResourceError(`ProjectServices ${name}: project is required`, this);
    this.services = [...new Set(args.services)].sort().map((service) =>
      new gcp.projects.Service(`${name}-${service.split('.')[0]}`, {
        project: args.project,
        service,
        disableOnDestroy: false,
        disableDependentServices: false,
      }, { parent: this, retainOnDelete: true }),
    );
    this.registerOutputs({ services: args.services });
  }
}

/**
 * Makes every GCP resource registered after this call wait for the APIs (a stack transformation: the components'
 * children inherit no `dependsOn` from their parents, and a resource created before its API is enabled fails).
 */
export function afterServices(services: ProjectServices): void {
  const serviceType = 'gcp:projects/service:Service';
  pulumi.runtime.registerStackTransformation((args) => {
    if (!args.type.startsWith('gcp:') || args.type === serviceType) return undefined;
    const given = args.opts.dependsOn;
    const list: pulumi.Input<pulumi.Resource>[] = given === undefined ? [] : Array.isArray(given) ? given : [given as pulumi.Input<pulumi.Resource>];
    return { props: args.props, opts: { ...args.opts, dependsOn: [...list, ...services.services] } };
  });
}
