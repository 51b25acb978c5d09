/**
 * lifeboat:aws:RunnerRoles: the runner's IAM identities, least privilege, one per job.
 *
 * - backup: put/get/list in the backup bucket, no delete (iamDocuments.backupPolicy);
 * - drill: get/list, plus writing drill reports; also the identity for hand-run restores;
 * - on ECS, an execution role per identity that pulls the image, writes logs and reads exactly the secrets that
 *   identity's tasks are given (ECS injects secrets through the execution role, not the task role).
 *
 * The roles are assumed by ECS tasks, or by Kubernetes service accounts through EKS IRSA.
 */
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import type { RunnerIdentity } from '../shared/taskPlan';
import {
  backupPolicy,
  drillPolicy,
  irsaTrustPolicy,
  restorePolicy,
  secretsReadPolicy,
  serviceTrustPolicy,
  type BucketAccess,
  type PolicyDocument,
} from './iamDocuments';

export const RUNNER_IDENTITIES: readonly RunnerIdentity[] = ['backup', 'drill'];

/** Who assumes the runner roles. */
export type RunnerTrust =
  | { kind: 'ecs' }
  | { kind: 'irsa'; oidcProviderArn: string; namespace: string; serviceAccounts: Record<RunnerIdentity, string> };

export interface RunnerRolesArgs {
  bucketArn: pulumi.Input<string>;
  keyArn: pulumi.Input<string>;
  /** Storage root inside the bucket ('' by default). */
  rootPrefix?: string;
  accountId: string;
  trust: RunnerTrust;
  /**
   * Buckets the drill identity may also read (and decrypt), e.g. the DR copy, so a drill can prove the copy a
   * disaster would restore from. Read only: no right to write or delete there. Default: none.
   */
  drillReadBuckets?: Array<{ bucketArn: pulumi.Input<string>; keyArn: pulumi.Input<string> }>;
  /** ECS only: full ARNs of the secrets each identity's tasks read (RunnerSecrets). Default: none. */
  secretArns?: Partial<Record<RunnerIdentity, pulumi.Input<string>[]>>;
  tags?: Record<string, string>;
}

const POLICIES: Record<RunnerIdentity, (a: BucketAccess) => PolicyDocument> = { backup: backupPolicy, drill: drillPolicy };

/** AWS's managed policy for ECS task execution: pull from ECR and write to CloudWatch Logs. */
export const ECS_TASK_EXECUTION_POLICY_ARN = 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy';

export class RunnerRoles extends pulumi.ComponentResource {
  /** Task roles (what the runner itself may do). */
  public readonly taskRoles: Record<RunnerIdentity, aws.iam.Role>;
  /** Execution roles (ECS only). */
  public readonly executionRoles?: Record<RunnerIdentity, aws.iam.Role>;
  public readonly taskRoleArns: Record<RunnerIdentity, pulumi.Output<string>>;

  constructor(name: string, args: RunnerRolesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:aws:RunnerRoles', name, {}, opts);
    if (!/^\d{12}$/.test(args.accountId)) {
      throw new pulumi.ResourceError(`${name}: accountId: expected a 12-digit AWS account id, got ${JSON.stringify(args.accountId)}`, this);
    }
    if (args.trust.kind === 'irsa' && !/^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/.+/.test(args.trust.oidcProviderArn)) {
      throw new pulumi.ResourceError(
        `${name}: trust.oidcProviderArn: expected an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/...), got ${JSON.stringify(args.trust.oidcProviderArn)}`,
        this,
      );
    }
    if (args.trust.kind === 'irsa' && args.secretArns && Object.values(args.secretArns).some((l) => l && l.length)) {
      throw new pulumi.ResourceError(`${name}: secretArns: only for ECS (Kubernetes reads secrets from Kubernetes Secrets)`, this);
    }
    const tags = args.tags ?? {};
    const trust = args.trust;
    const roles = {} as Record<RunnerIdentity, aws.iam.Role>;
    for (const id of RUNNER_IDENTITIES) {
      const assumeRolePolicy =
        trust.kind === 'ecs'
          ? serviceTrustPolicy('ecs-tasks.amazonaws.com', args.accountId)
          : irsaTrustPolicy(trust.oidcProviderArn, trust.namespace, trust.serviceAccounts[id]);
      roles[id] = new aws.iam.Role(
        `${name}-${id}`,
        { description: `Lifeboat runner: ${id}`, assumeRolePolicy: JSON.stringify(assumeRolePolicy), tags: { ...tags, 'lifeboat-role': `${id}-identity` } },
        { parent: this },
      );
      new aws.iam.RolePolicy(
        `${name}-${id}-storage`,
        {
          role: roles[id].id,
          policy: pulumi
            .all([args.bucketArn, args.keyArn])
            .apply(([bucketArn, kmsKeyArn]) => JSON.stringify(POLICIES[id]({ bucketArn, kmsKeyArn, rootPrefix: args.rootPrefix }))),
        },
        { parent: this },
      );
    }
    (args.drillReadBuckets ?? []).forEach((b, i) => {
      new aws.iam.RolePolicy(
        `${name}-drill-read-${i + 1}`,
        {
          role: roles.drill.id,
          policy: pulumi
            .all([b.bucketArn, b.keyArn])
            .apply(([bucketArn, kmsKeyArn]) => JSON.stringify(restorePolicy({ bucketArn, kmsKeyArn, rootPrefix: args.rootPrefix }))),
        },
        { parent: this },
      );
    });
    this.taskRoles = roles;
    this.taskRoleArns = { backup: roles.backup.arn, drill: roles.drill.arn };

    if (trust.kind === 'ecs') {
      const exec = {} as Record<RunnerIdentity, aws.iam.Role>;
      for (const id of RUNNER_IDENTITIES) {
        exec[id] = new aws.iam.Role(
          `${name}-${id}-exec`,
          {
            description: `Lifeboat runner: ECS execution role of ${id} tasks`,
            assumeRolePolicy: JSON.stringify(serviceTrustPolicy('ecs-tasks.amazonaws.com', args.accountId)),
            tags: { ...tags, 'lifeboat-role': 'task-execution' },
          },
          { parent: this },
        );
        new aws.iam.RolePolicyAttachment(
          `${name}-${id}-exec-managed`,
          { role: exec[id].name, policyArn: ECS_TASK_EXECUTION_POLICY_ARN },
          { parent: this },
        );
        const secretArns = args.secretArns?.[id] ?? [];
        if (secretArns.length) {
          new aws.iam.RolePolicy(
            `${name}-${id}-exec-secrets`,
            { role: exec[id].id, policy: pulumi.all(secretArns).apply((arns) => JSON.stringify(secretsReadPolicy([...new Set(arns)]))) },
            { parent: this },
          );
        }
      }
      this.executionRoles = exec;
    }
    this.registerOutputs({ taskRoleArns: this.taskRoleArns });
  }
}
