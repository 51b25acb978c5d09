/**
 * lifeboat:aws:RunnerTasks: where the runner runs on AWS: an ECS cluster, the CloudWatch log group its final events
 * land in (alerts read them), and one Fargate task definition per runner task (backup, drill, Redis backup per
 * source), each under the identity its job needs.
 */
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { containerDefinition, SCRATCH_VOLUME } from './containerDefinition';
import type { RunnerIdentity, RunnerTask } from '../shared/taskPlan';

export interface RunnerTasksArgs {
  region: string;
  /** Prefix of task definition families and the log group name, e.g. `lifeboat-prod`. */
  namePrefix: string;
  tasks: RunnerTask[];
  /** Runner image; pin it by digest in production. */
  image: string;
  /** The runner's entrypoint inside the image. Default: `node /app/dist/runner/cli.js` (runner/Dockerfile). */
  entryPoint?: string[];
  /** Fargate CPU units. Default: 1024. */
  cpu?: number;
  /** Memory, MiB. Default: 4096. */
  memory?: number;
  /** Task ephemeral storage, GiB (21-200). Default: 50. */
  ephemeralStorageGiB?: number;
  /** Log retention, days. Default: 365. */
  logRetentionDays?: number;
  taskRoleArns: Record<RunnerIdentity, pulumi.Input<string>>;
  /** Full Secrets Manager ARN of every secret the tasks read, by secret name (RunnerSecrets). */
  secretArns: Record<string, pulumi.Input<string>>;
  executionRoleArns: Record<RunnerIdentity, pulumi.Input<string>>;
  /** Resources every task definition waits for (e.g. the values of its secrets). Default: none. */
  after?: pulumi.Resource[];
  tags?: Record<string, string>;
}

export class RunnerTasks extends pulumi.ComponentResource {
  public readonly cluster: aws.ecs.Cluster;
  public readonly logGroup: aws.cloudwatch.LogGroup;
  public readonly logGroupName: string;
  /** Task definitions by runner task id. */
  public readonly taskDefinitions: Record<string, aws.ecs.TaskDefinition>;

  constructor(name: string, args: RunnerTasksArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:aws:RunnerTasks', name, {}, opts);
    const entryPoint = args.entryPoint ?? ['node', '/app/dist/runner/cli.js'];
    const cpu = args.cpu ?? 1024;
    const memory = args.memory ?? 4096;
    const storage = args.ephemeralStorageGiB ?? 50;
    if (!args.image) throw new pulumi.ResourceError(`${name}: image: expected a container image, got nothing`, this);
    if (!(Number.isInteger(storage) && storage >= 21 && storage <= 200)) {
      throw new pulumi.ResourceError(`${name}: ephemeralStorageGiB: expected 21 to 200 (Fargate's range), got ${storage}`, this);
    }
    const ids = new Set<string>();
    for (const t of args.tasks) {
      if (ids.has(t.id)) throw new pulumi.ResourceError(`${name}: tasks: expected unique ids, got "${t.id}" twice`, this);
      ids.add(t.id);
      if (!(t.timeoutSeconds > 0)) throw new pulumi.ResourceError(`${name}: task ${t.id}: expected a positive timeout, got ${t.timeoutSeconds}`, this);
      for (const secret of Object.values(t.secretEnv)) {
        if (args.secretArns[secret] === undefined) {
          throw new pulumi.ResourceError(`${name}: secretArns: expected the ARN of secret ${JSON.stringify(secret)} (task ${t.id}), got nothing`, this);
        }
      }
    }
    const tags = args.tags ?? {};
    const region = args.region;

    this.cluster = new aws.ecs.Cluster(
      `${name}-cluster`,
      { region, settings: [{ name: 'containerInsights', value: 'enabled' }], tags },
      { parent: this },
    );
    // An explicit name: the metric filters, the alarms' runbooks and `aws logs tail` all refer to it.
    this.logGroupName = `/lifeboat/${args.namePrefix}/runner`;
    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { region, name: this.logGroupName, retentionInDays: args.logRetentionDays ?? 365, tags },
      { parent: this },
    );
    this.taskDefinitions = {};
    for (const task of args.tasks) {
      const names = [...new Set(Object.values(task.secretEnv))];
      const arns = pulumi.all(names.map((n) => args.secretArns[n]!));
      this.taskDefinitions[task.id] = new aws.ecs.TaskDefinition(
        `${name}-${task.id}`,
        {
          region,
          family: `${args.namePrefix}-${task.id}`,
          requiresCompatibilities: ['FARGATE'],
          networkMode: 'awsvpc',
          cpu: String(cpu),
          memory: String(memory),
          ephemeralStorage: { sizeInGib: storage },
          runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
          taskRoleArn: args.taskRoleArns[task.identity],
          executionRoleArn: args.executionRoleArns[task.identity],
          volumes: [{ name: SCRATCH_VOLUME }],
          containerDefinitions: arns.apply((resolved) =>
            JSON.stringify([
              containerDefinition({
                task,
                image: args.image,
                entryPoint,
                logGroupName: this.logGroupName,
                region,
                secretArns: Object.fromEntries(names.map((n, i) => [n, resolved[i]!])),
              }),
            ]),
          ),
          tags: { ...tags, 'lifeboat-source': task.source, 'lifeboat-task': task.kind },
        },
        { parent: this, dependsOn: [this.logGroup, ...(args.after ?? [])] },
      );
    }
    this.registerOutputs({
      clusterArn: this.cluster.arn,
      logGroupName: this.logGroupName,
      taskDefinitionArns: Object.fromEntries(Object.entries(this.taskDefinitions).map(([id, td]) => [id, td.arn])),
    });
  }
}
