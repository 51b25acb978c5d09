/**
 * lifeboat:aws:ImageReplication: the runner image's ECR repository replicated into the DR region (same digests), so
 * the DR stack can pull the image the primary runs when the primary region is gone. Why replication rather than a
 * second push by the pipeline: the copy exists before the disaster, with the very digest that wrote the backups,
 * and nothing at disaster time depends on the primary region's registry or on the build pipeline.
 *
 * ECR keeps one replication configuration per registry: this resource replaces any other, so exactly one stack per
 * account and region may own it (the others set `lifeboat:aws.imageReplication: false`). It is retained on
 * destroy: destroying a stack must not silently stop the replication another stack's DR path relies on.
 */
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { ecrImageInRegion, ecrReplicationRules, parseEcrImage } from './ecrImage';

export interface ImageReplicationArgs {
  /** The registry's region (the primary's). */
  region: string;
  accountId: string;
  /** The runner image, in this account's ECR in `region`. */
  image: string;
  /** Where the repository is copied. */
  drRegion: string;
}

export class ImageReplication extends pulumi.ComponentResource {
  /** The same image reference in the DR region's registry (what the DR stack's `lifeboat:runnerImage` takes). */
  public readonly drImage: string;

  constructor(name: string, args: ImageReplicationArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:aws:ImageReplication', name, {}, opts);
    const ecr = parseEcrImage(args.image);
    if (!ecr || ecr.account !== args.accountId || ecr.region !== args.region) {
      throw new pulumi.ResourceError(
        `${name}: image: expected an image in ECR of account ${args.accountId} in ${args.region}, got ${JSON.stringify(args.image)}`,
        this,
      );
    }
    if (args.drRegion === args.region) {
      throw new pulumi.ResourceError(`${name}: drRegion: expected a region other than ${args.region}, got the same`, this);
    }
    new aws.ecr.ReplicationConfiguration(
      `${name}-config`,
      { region: args.region, replicationConfiguration: ecrReplicationRules(args.accountId, ecr.repository, args.drRegion) },
      { parent: this, retainOnDelete: true },
    );
    this.drImage = ecrImageInRegion(args.image, args.drRegion)!;
    this.registerOutputs({ drImage: this.drImage });
  }
}
