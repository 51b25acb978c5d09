/**
 * lifeboat:aws:PitrDrillAccess: the RDS rights of the PITR drill (pitrIam.ts), as an inline policy of the drill
 * task role. Kept apart from RunnerRoles so a stack without PITR drills gives that role no RDS right at all.
 */
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { pitrDrillPolicy } from './pitrIam';

export interface PitrDrillAccessArgs {
  region: string;
  accountId: string;
  /** The drill task role's name or id (RunnerRoles.taskRoles.drill.id). */
  role: pulumi.Input<string>;
  /** DBInstanceIdentifier of every instance the stack drills. */
  sourceIdentifiers: string[];
}

export class PitrDrillAccess extends pulumi.ComponentResource {
  public readonly policy: aws.iam.RolePolicy;

  constructor(name: string, args: PitrDrillAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:aws:PitrDrillAccess', name, {}, opts);
    let document;
    try {
      document = pitrDrillPolicy({ region: args.region, accountId: args.accountId, sourceIdentifiers: args.sourceIdentifiers });
    } catch (e) {
      throw new pulumi.ResourceError(`${name}: ${(e as Error).message}`, this);
    }
    this.policy = new aws.iam.RolePolicy(`${name}-rds`, { role: args.role, policy: JSON.stringify(document) }, { parent: this });
    this.registerOutputs({ policy: this.policy.id });
  }
}
