/**
 * The ECS container definition of one runner task (the JSON `aws.ecs.TaskDefinition` takes), as a pure function.
 *
 * ECS has no run deadline of its own (unlike Cloud Run's task timeout or a Job's activeDeadlineSeconds), so the
 * runner is started under coreutils `timeout`, which sends SIGTERM at the limit and SIGKILL a minute later; the
 * task's init process (initProcessEnabled) reaps and forwards signals. `--foreground` keeps the deadline's SIGTERM
 * (and SIGKILL) to the runner alone, as the image's own tini does: without it `timeout` also signals its whole process
 * group, so pg_dump would be killed under the runner while it is still aborting the upload.
 *
 * Secrets come from Secrets Manager by full ARN (ECS reads a bare name from SSM Parameter Store, and refuses a partial
 * ARN), resolved by ECS at start through the execution role: their values never appear in the definition.
 */
import { RUNNER_TMP_DIR, RUNNER_UID, type RunnerTask } from '../shared/taskPlan';

export const CONTAINER_NAME = 'runner';
export const SCRATCH_VOLUME = 'scratch';
/** Seconds between SIGTERM at the deadline and SIGKILL. */
export const KILL_AFTER_SECONDS = 60;

export interface ContainerDefinitionInput {
  task: RunnerTask;
  image: string;
  /** The runner's entrypoint inside the image (runner/Dockerfile), wrapped by `timeout`. */
  entryPoint: string[];
  logGroupName: string;
  region: string;
  /** Full Secrets Manager ARN of every secret the task reads, by secret name. */
  secretArns: Record<string, string>;
}

export function containerDefinition(i: ContainerDefinitionInput) {
  const t = i.task;
  const valueFrom = (secret: string): string => {
    const arn = i.secretArns[secret];
    if (!arn) throw new Error(`task ${t.id}: no Secrets Manager ARN for secret ${JSON.stringify(secret)}`);
    return arn;
  };
  return {
    name: CONTAINER_NAME,
    image: i.image,
    essential: true,
    entryPoint: ['timeout', '--foreground', '--signal=TERM', `--kill-after=${KILL_AFTER_SECONDS}s`, `${t.timeoutSeconds}s`, ...i.entryPoint],
    command: t.args,
    environment: Object.entries(t.env)
      .map(([name, value]) => ({ name, value }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    secrets: Object.entries(t.secretEnv)
      .map(([name, secret]) => ({ name, valueFrom: valueFrom(secret) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    user: `${RUNNER_UID}:${RUNNER_UID}`,
    readonlyRootFilesystem: true,
    mountPoints: [{ sourceVolume: SCRATCH_VOLUME, containerPath: RUNNER_TMP_DIR, readOnly: false }],
    linuxParameters: { initProcessEnabled: true, capabilities: { drop: ['ALL'] } },
    // Fargate's maximum: time for the runner to abort its upload and print its final event after SIGTERM.
    stopTimeout: 120,
    logConfiguration: {
      logDriver: 'awslogs',
      options: { 'awslogs-group': i.logGroupName, 'awslogs-region': i.region, 'awslogs-stream-prefix': t.id },
    },
  };
}
