/**
 * The Cloud SQL rights of the PITR drill (`lifeboat pitr drill --cloudsql`): clone a source to a point in time,
 * watch the clone, delete it. No predefined role fits: roles/cloudsql.editor cannot clone or delete, and
 * roles/cloudsql.admin can do everything to every instance (users, imports, exports, deletes). So two custom roles,
 * each bound with an IAM condition on the instance (Cloud SQL evaluates `resource.name` as
 * `projects/<project>/instances/<instance>`):
 * - clone (cloudsql.instances.clone), only on the stack's source instances;
 * - delete (cloudsql.instances.delete), on any instance except the sources. The clone's name is the drill's choice,
 *   so it cannot be listed here; production instances carry deletion protection (cloudsql-deletion-protection),
 *   which this identity cannot lift (no cloudsql.instances.update).
 * Reading instances and operations (get, list) is roles/cloudsql.viewer, predefined and read-only.
 */

export const CLOUD_SQL_VIEWER = 'roles/cloudsql.viewer';

export interface PitrCustomRole {
  /** Role id, unique in the project (`[a-zA-Z0-9_.]{3,64}`). */
  roleId: string;
  title: string;
  description: string;
  permissions: string[];
  /** The binding's IAM condition. */
  condition: { title: string; description: string; expression: string };
}

function instanceName(project: string, instance: string): string {
  return `projects/${project}/instances/${instance}`;
}

/** `lifeboat-prod` → `lifeboat_prod`: role ids allow letters, digits, `_` and `.`. */
export function roleIdPrefix(prefix: string): string {
  return prefix.replace(/[^a-zA-Z0-9_.]/g, '_');
}

export function pitrDrillRoles(input: { project: string; prefix: string; sourceInstances: string[] }): PitrCustomRole[] {
  if (input.sourceInstances.length === 0) throw new Error('pitrDrillRoles: sourceInstances: expected at least one instance, got none');
  const names = input.sourceInstances.map((i) => `'${instanceName(input.project, i)}'`);
  const isInstance = "resource.type == 'sqladmin.googleapis.com/Instance'";
  const isSource = names.map((n) => `resource.name == ${n}`).join(' || ');
  const id = roleIdPrefix(input.prefix);
  return [
    {
      roleId: `${id}_pitr_clone`,
      title: `Lifeboat ${input.prefix}: PITR drill clone`,
      description: 'Clone the protected Cloud SQL instances to a point in time (lifeboat pitr drill)',
      permissions: ['cloudsql.instances.clone'],
      condition: { title: 'source instances only', description: 'The instances this stack protects', expression: `${isInstance} && (${isSource})` },
    },
    {
      roleId: `${id}_pitr_cleanup`,
      title: `Lifeboat ${input.prefix}: PITR drill cleanup`,
      description: 'Delete the throwaway clone a PITR drill made (never a protected instance)',
      permissions: ['cloudsql.instances.delete'],
      condition: { title: 'never a source instance', description: 'Any instance but the ones this stack protects', expression: `${isInstance} && !(${isSource})` },
    },
  ];
}
