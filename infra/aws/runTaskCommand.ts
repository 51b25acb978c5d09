/**
 * Running a runner task by hand or from a script with the AWS CLI: the `--network-configuration` of
 * `aws ecs run-task`, and one command that runs a task, waits for it and fails unless it succeeded.
 */
import type { AwsConfig } from '../config/aws';

/** The `--network-configuration` of `aws ecs run-task`. */
export function networkConfiguration(a: AwsConfig): string {
  return `awsvpcConfiguration={subnets=[${a.network.subnetIds.join(',')}],securityGroups=[${a.network.securityGroupIds.join(',')}],assignPublicIp=${a.network.assignPublicIp ? 'ENABLED' : 'DISABLED'}}`;
}

/**
 * One shell command that runs a task, waits for it to stop and fails unless the runner exited 0 (the restore checks
 * itself: row and key counts against the manifest). `aws ecs wait tasks-stopped` gives up after 10 minutes, shorter
 * than a restore, so it polls.
 */
export function runTaskAndWaitCommand(region: string, cluster: string, family: string, network: string): string {
  const describe = (query: string) => `aws ecs describe-tasks --region ${region} --cluster ${cluster} --tasks "$TASK" --query '${query}' --output text`;
  return (
    `TASK=$(aws ecs run-task --region ${region} --cluster ${cluster} --launch-type FARGATE --task-definition ${family} ` +
    `--network-configuration '${network}' --query 'tasks[0].taskArn' --output text) && ` +
    `until [ "$(${describe('tasks[0].lastStatus')})" = STOPPED ]; do sleep 30; done && ` +
    `[ "$(${describe('tasks[0].containers[0].exitCode')})" = 0 ]`
  );
}
