import * as pulumi from '@pulumi/pulumi';
import * as gcp from '@pulumi/gcp';
import { lifeboatLabels } from './labels';

export interface RunnerSecretsArgs {
  project: string;
  /** Secret ids to create (values are added out of band: `gcloud secrets versions add <id> --data-file=-`). */
  secretIds: string[];
  /** Regions every secret is replicated to: the primary region and the DR region, so a region loss keeps them. */
  replicaRegions: string[];
  /** Default: false. */
  ephemeral?: boolean;
  /** Default: {}. */
  labels?: Record<string, string>;
}

/**
 * Secret Manager containers for what the runner reads (database and Redis URLs, scratch URLs). The stack never
 * holds their values: they are written by the people who own the credentials, so no password enters Pulumi state.
 */
export class RunnerSecrets extends pulumi.ComponentResource {
  readonly secrets: Record<string, gcp.secretmanager.Secret> = {};

  constructor(name: string, args: RunnerSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:gcp:RunnerSecrets', name, {}, opts);
    if (args.replicaRegions.length === 0) throw new pulumi.ResourceError(`RunnerSecrets ${name}: replicaRegions must name at least one region`, this);
    const replicas = [...new Set(args.replicaRegions)].map((location) => ({ location }));
    for (const id of [...new Set(args.secretIds)]) {
      this.secrets[id] = new gcp.secretmanager.Secret(`${name}-${id}`, {
        project: args.project,
        secretId: id,
        replication: { userManaged: { replicas } },
        labels: lifeboatLabels(args.labels ?? {}, args.ephemeral ?? false),
        deletionProtection: !(args.ephemeral ?? false),
      }, { parent: this });
    }
    this.registerOutputs({ secretIds: Object.keys(this.secrets) });
  }
}
