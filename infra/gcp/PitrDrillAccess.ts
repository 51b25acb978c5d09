/**
 * lifeboat:gcp:PitrDrillAccess: what the PITR drill's identity may do to Cloud SQL (pitrIam.ts): clone the sources,
 * delete anything but them, and read instances (roles/cloudsql.viewer).
 */
import * as pulumi from '@pulumi/pulumi';
import * as gcp from '@pulumi/gcp';
import { CLOUD_SQL_VIEWER, pitrDrillRoles } from './pitrIam';

export interface PitrDrillAccessArgs {
  project: string;
  /** Name prefix of the stack: part of the custom roles' ids. */
  prefix: string;
  /** The identity the PITR drill job runs as. */
  serviceAccountEmail: pulumi.Input<string>;
  /** Cloud SQL instance ids the stack drills. */
  sourceInstances: string[];
}

export class PitrDrillAccess extends pulumi.ComponentResource {
  public readonly roles: gcp.projects.IAMCustomRole[];

  constructor(name: string, args: PitrDrillAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:gcp:PitrDrillAccess', name, {}, opts);
    let specs;
    try {
      specs = pitrDrillRoles({ project: args.project, prefix: args.prefix, sourceInstances: args.sourceInstances });
    } catch (e) {
      throw new pulumi.ResourceError(`${name}: ${(e as Error).message}`, this);
    }
    const member = pulumi.interpolate`serviceAccount:${args.serviceAccountEmail}`;
    this.roles = specs.map((r) => {
      const role = new gcp.projects.IAMCustomRole(
        `${name}-${r.roleId.endsWith('clone') ? 'clone' : 'cleanup'}`,
        { project: args.project, roleId: r.roleId, title: r.title, description: r.description, permissions: r.permissions, stage: 'GA' },
        { parent: this },
      );
      new gcp.projects.IAMMember(
        `${name}-${r.roleId.endsWith('clone') ? 'clone' : 'cleanup'}-member`,
        { project: args.project, role: role.name, member, condition: r.condition },
        { parent: this },
      );
      return role;
    });
    new gcp.projects.IAMMember(`${name}-viewer`, { project: args.project, role: CLOUD_SQL_VIEWER, member }, { parent: this });
    this.registerOutputs({ roles: this.roles.map((r) => r.name) });
  }
}
