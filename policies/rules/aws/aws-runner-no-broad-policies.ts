import { rolePermissions, runnerRoles } from '../../lib/aws-iam';
import { stackPolicy } from '../../lib/rule';

const BROAD_ACTIONS = ['*', '*:*', 's3:*', 'iam:*', 'kms:*', 'sts:*'];

export default stackPolicy({
  name: 'aws-runner-no-broad-policies',
  platform: 'aws',
  description: 'Runner roles have no administrator or full-access managed policies and no wildcard or NotAction Allow statements.',
  why: 'The runner runs a database client on a schedule; a broad policy turns any bug or compromised image into control of the account and its backups.',
  fix: 'Grant the listed actions the task needs on the backup bucket, its key and its secrets only.',
  enforcementLevel: 'mandatory',
  config: {
    forbiddenManagedPolicies: {
      type: 'array',
      items: { type: 'string' },
      default: ['AdministratorAccess', 'PowerUserAccess', 'IAMFullAccess', 'AmazonS3FullAccess'],
      description: 'AWS-managed policy names no runner role may have attached.',
    },
  },
  check: (stack, cfg, report) => {
    const forbidden = cfg.forbiddenManagedPolicies as string[];
    for (const role of runnerRoles(stack)) {
      const perms = rolePermissions(stack, role);
      for (const m of perms.managedPolicyArns) {
        const name = m.arn.split('/').pop() ?? '';
        if (forbidden.includes(name)) report(`runner role ${role.name} has the managed policy ${name}`, m.from);
      }
      for (const s of perms.statements) {
        if (s.effect !== 'Allow') continue;
        if (s.notAction) report(`runner role ${role.name} has an Allow statement with NotAction, which grants almost everything`, s.from);
        const broad = s.actions.filter((a) => BROAD_ACTIONS.includes(a.toLowerCase()));
        if (broad.length) report(`runner role ${role.name} is allowed ${broad.join(', ')}`, s.from);
      }
    }
  },
});
