/**
 * lifeboat:aws:RunnerSchedules: EventBridge Scheduler schedules that start the runner's Fargate tasks, in the
 * stack's time zone, under a scheduler role that may only run these task definitions on this cluster and hand their
 * roles to ECS.
 */
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { toEventBridgeCron } from './cron';
import { schedulerPolicy, serviceTrustPolicy } from './iamDocuments';

export interface ScheduledTask {
  /** Runner task id (unique): part of the child names. */
  id: string;
  /** Five-field cron, as in the stack config. */
  schedule: string;
  taskDefinitionArn: pulumi.Input<string>;
}

export interface RunnerSchedulesArgs {
  region: string;
  accountId: string;
  clusterArn: pulumi.Input<string>;
  tasks: ScheduledTask[];
  /** IANA time zone of every schedule. */
  timeZone: string;
  subnetIds: string[];
  securityGroupIds: string[];
  /** Default: false (private subnets). */
  assignPublicIp?: boolean;
  /** Task and execution role ARNs of the tasks (the scheduler passes them to ECS). */
  passRoleArns: pulumi.Input<string>[];
  /**
   * Attempts to start a task when the RunTask call itself fails (capacity, throttling). A task that ran and failed is
   * not retried by the scheduler: the alarms report it. Default: 3.
   */
  retryAttempts?: number;
  tags?: Record<string, string>;
}

export class RunnerSchedules extends pulumi.ComponentResource {
  public readonly role: aws.iam.Role;
  public readonly schedules: Record<string, aws.scheduler.Schedule>;

  constructor(name: string, args: RunnerSchedulesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:aws:RunnerSchedules', name, {}, opts);
    if (!args.timeZone) throw new pulumi.ResourceError(`${name}: timeZone: expected an IANA time zone, got nothing`, this);
    if (args.subnetIds.length === 0) throw new pulumi.ResourceError(`${name}: subnetIds: expected at least one subnet, got none`, this);
    const expressions: Record<string, string> = {};
    for (const t of args.tasks) {
      if (t.id in expressions) throw new pulumi.ResourceError(`${name}: tasks: expected unique ids, got "${t.id}" twice`, this);
      try {
        expressions[t.id] = toEventBridgeCron(t.schedule);
      } catch (e) {
        throw new pulumi.ResourceError(`${name}: task ${t.id}: ${(e as Error).message}`, this);
      }
    }
    const tags = args.tags ?? {};
    const region = args.region;
    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description: 'Lifeboat: EventBridge Scheduler starts the runner tasks',
        assumeRolePolicy: JSON.stringify(serviceTrustPolicy('scheduler.amazonaws.com', args.accountId)),
        tags: { ...tags, 'lifeboat-role': 'scheduler-identity' },
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-role-policy`,
      {
        role: this.role.id,
        policy: pulumi
          .all([args.clusterArn, pulumi.all(args.tasks.map((t) => t.taskDefinitionArn)), pulumi.all(args.passRoleArns)])
          .apply(([clusterArn, taskDefinitionArns, passRoleArns]) =>
            JSON.stringify(schedulerPolicy({ clusterArn, taskDefinitionArns, passRoleArns })),
          ),
      },
      { parent: this },
    );
    const group = new aws.scheduler.ScheduleGroup(`${name}-group`, { region, tags }, { parent: this });
    this.schedules = {};
    for (const t of args.tasks) {
      this.schedules[t.id] = new aws.scheduler.Schedule(
        `${name}-${t.id}`,
        {
          region,
          groupName: group.name,
          description: `Lifeboat runner task ${t.id}`,
          scheduleExpression: expressions[t.id]!,
          scheduleExpressionTimezone: args.timeZone,
          flexibleTimeWindow: { mode: 'OFF' },
          state: 'ENABLED',
          target: {
            arn: args.clusterArn,
            roleArn: this.role.arn,
            ecsParameters: {
              taskDefinitionArn: t.taskDefinitionArn,
              launchType: 'FARGATE',
              platformVersion: 'LATEST',
              taskCount: 1,
              networkConfiguration: {
                subnets: args.subnetIds,
                securityGroups: args.securityGroupIds,
                assignPublicIp: args.assignPublicIp ?? false,
              },
            },
            retryPolicy: { maximumRetryAttempts: args.retryAttempts ?? 3, maximumEventAgeInSeconds: 3600 },
          },
        },
        { parent: this },
      );
    }
    this.registerOutputs({ roleArn: this.role.arn });
  }
}
