/**
 * lifeboat:aws:Alerts: CloudWatch metric filters on the runner's final events, one alarm per source and condition
 * (alertRules.ts), and an encrypted SNS topic that pages the channels from config.
 *
 * With the cluster given, also EventBridge rules for runner tasks that stopped without printing their final event:
 * a task that could not start (a secret without a value, an image that cannot be pulled) or whose runner was killed
 * (out of memory, SIGKILL after the deadline). The metric alarms cannot see those, and a drill has no staleness alarm.
 */
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { alarmSpecs, metricFilterSpecs, METRICS, SOURCE_DIMENSION, taskStoppedPatterns, type SourceAlertInput } from './alertRules';
import { EVENT_FIELDS } from '../../runner/contract/events';
import { cloudWatchDashboardBody, dashboardName } from './dashboard';

export interface AlertsArgs {
  region: string;
  accountId: string;
  /** The runner's log group (RunnerTasks). */
  logGroupName: pulumi.Input<string>;
  /** Plain log group name, for the runbooks in alarm descriptions. */
  logGroupDisplayName: string;
  /** CloudWatch metric namespace, e.g. `Lifeboat/lifeboat-prod`. */
  namespace: string;
  sources: SourceAlertInput[];
  /** Email addresses subscribed to the topic (each confirms by mail). Default: none. */
  emails?: string[];
  /** PagerDuty: Secrets Manager secrets holding Events API v1 integration keys. Default: none. */
  pagerdutyKeySecrets?: string[];
  /** Topics that also receive every alarm and its recovery. Default: none. */
  extraTopicArns?: string[];
  /** The runner's ECS cluster: alert on its tasks that stop without their final event. Default: no such alert. */
  clusterArn?: pulumi.Input<string>;
  /** The runner's container name in the task definitions (containerDefinition.ts). Default: `runner`. */
  containerName?: string;
  tags?: Record<string, string>;
}

export class Alerts extends pulumi.ComponentResource {
  public readonly topic: aws.sns.Topic;
  public readonly alarms: Record<string, aws.cloudwatch.MetricAlarm>;

  constructor(name: string, args: AlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:aws:Alerts', name, {}, opts);
    if (!/^\d{12}$/.test(args.accountId)) {
      throw new pulumi.ResourceError(`${name}: accountId: expected a 12-digit AWS account id, got ${JSON.stringify(args.accountId)}`, this);
    }
    const seen = new Set<string>();
    for (const s of args.sources) {
      if (seen.has(s.source)) throw new pulumi.ResourceError(`${name}: sources: expected unique names, got "${s.source}" twice`, this);
      seen.add(s.source);
    }
    let specs;
    try {
      specs = args.sources.flatMap((s) => alarmSpecs(s, args.logGroupDisplayName));
    } catch (e) {
      throw new pulumi.ResourceError(`${name}: ${(e as Error).message}`, this);
    }
    const tags = args.tags ?? {};
    const region = args.region;

    // CloudWatch can only publish to an encrypted topic whose key lets it: the AWS-managed SNS key does not.
    const key = new aws.kms.Key(
      `${name}-key`,
      {
        region,
        description: 'Lifeboat: encrypts the alert topic',
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Sid: 'AccountAdmin', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${args.accountId}:root` }, Action: 'kms:*', Resource: '*' },
            {
              Sid: 'CloudWatchPublishes',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Resource: '*',
              Condition: { StringEquals: { 'aws:SourceAccount': args.accountId } },
            },
            // EventBridge's KMS requests carry no aws:SourceAccount/SourceArn: a condition here would drop every event.
            ...(args.clusterArn
              ? [{ Sid: 'EventBridgePublishes', Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*' }]
              : []),
          ],
        }),
        tags,
      },
      { parent: this },
    );
    this.topic = new aws.sns.Topic(`${name}-topic`, { region, kmsMasterKeyId: key.arn, tags }, { parent: this });
    for (const [i, email] of (args.emails ?? []).entries()) {
      new aws.sns.TopicSubscription(`${name}-email-${i}`, { region, topic: this.topic.arn, protocol: 'email', endpoint: email }, { parent: this });
    }
    for (const [i, secretId] of (args.pagerdutyKeySecrets ?? []).entries()) {
      // The integration key is read at deploy time and kept only as a secret in state.
      const keyValue = aws.secretsmanager.getSecretVersionOutput({ secretId, region }, { parent: this }).secretString;
      new aws.sns.TopicSubscription(
        `${name}-pagerduty-${i}`,
        {
          region,
          topic: this.topic.arn,
          protocol: 'https',
          endpoint: pulumi.secret(pulumi.interpolate`https://events.pagerduty.com/integration/${keyValue}/enqueue`),
          endpointAutoConfirms: true,
        },
        { parent: this },
      );
    }

    for (const f of metricFilterSpecs()) {
      new aws.cloudwatch.LogMetricFilter(
        `${name}-${f.role}`,
        {
          region,
          logGroupName: args.logGroupName,
          pattern: f.pattern,
          metricTransformation: {
            name: METRICS[f.metric],
            namespace: args.namespace,
            value: f.value,
            unit: f.unit,
            dimensions: { [SOURCE_DIMENSION]: `$.${EVENT_FIELDS.source}` },
          },
        },
        { parent: this },
      );
    }
    // A dashboard of the same metrics, for people (the alarms below page on them).
    new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        region,
        dashboardName: dashboardName(args.namespace),
        dashboardBody: JSON.stringify(
          cloudWatchDashboardBody({ region, namespace: args.namespace, sources: args.sources.map((s) => s.source), drillSources: args.sources.filter((s) => s.drills).map((s) => s.source) }),
        ),
      },
      { parent: this },
    );
    const actions = [this.topic.arn, ...(args.extraTopicArns ?? [])];
    this.alarms = {};
    for (const a of specs) {
      const id = `${a.source}-${a.condition}`;
      this.alarms[id] = new aws.cloudwatch.MetricAlarm(
        `${name}-${id}`,
        {
          region,
          alarmDescription: a.description,
          namespace: args.namespace,
          metricName: METRICS[a.metric],
          dimensions: { [SOURCE_DIMENSION]: a.source },
          statistic: a.statistic,
          period: a.period,
          evaluationPeriods: a.evaluationPeriods,
          datapointsToAlarm: a.datapointsToAlarm,
          threshold: a.threshold,
          comparisonOperator: a.comparisonOperator,
          treatMissingData: a.treatMissingData,
          alarmActions: actions,
          okActions: actions,
          tags: { ...tags, 'lifeboat-source': a.source, 'lifeboat-alert': a.condition },
        },
        { parent: this },
      );
    }
    if (args.clusterArn) this.taskStoppedRules(name, args.clusterArn, args.containerName ?? 'runner', args.accountId, region, tags);
    this.registerOutputs({ topicArn: this.topic.arn });
  }

  /** EventBridge rules on ECS task state changes → the topic, whose policy lets only these rules (and CloudWatch) publish. */
  private taskStoppedRules(name: string, clusterArn: pulumi.Input<string>, container: string, accountId: string, region: string, tags: Record<string, string>) {
    const rules = Object.entries(taskStoppedPatterns(container)).map(([role, pattern]) => {
      const rule = new aws.cloudwatch.EventRule(
        `${name}-${role}`,
        {
          region,
          // Named, not autonamed: the target and the topic policy refer to it, and on-call finds it by this name.
          name: `${name}-${role}`,
          description: `Lifeboat: a runner task ${role === 'task-not-started' ? 'could not start' : 'was killed'} and printed no final event`,
          eventPattern: pulumi.output(clusterArn).apply((arn) => JSON.stringify(pattern(arn))),
          tags,
        },
        { parent: this },
      );
      new aws.cloudwatch.EventTarget(
        `${name}-${role}-target`,
        {
          region,
          rule: rule.name,
          arn: this.topic.arn,
          inputTransformer: {
            inputPaths: { group: '$.detail.group', stopCode: '$.detail.stopCode', reason: '$.detail.stoppedReason', task: '$.detail.taskArn' },
            // A plain-text message (a quoted JSON string, as EventBridge requires for non-JSON targets).
            inputTemplate: pulumi.interpolate`"Lifeboat runner task <group> stopped without reporting its outcome (<stopCode>: <reason>). On-call: aws ecs describe-tasks --cluster ${clusterArn} --tasks <task> shows each container's exit code and reason; fix the cause, then run the task again (pulumi stack output runNow)."`,
          },
        },
        { parent: this },
      );
      return rule;
    });
    new aws.sns.TopicPolicy(
      `${name}-topic-policy`,
      {
        region,
        arn: this.topic.arn,
        policy: pulumi.all([this.topic.arn, ...rules.map((r) => r.arn)]).apply(([topicArn, ...ruleArns]) =>
          JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'AccountManages',
                Effect: 'Allow',
                Principal: { AWS: `arn:aws:iam::${accountId}:root` },
                Action: ['sns:Publish', 'sns:Subscribe', 'sns:GetTopicAttributes', 'sns:SetTopicAttributes', 'sns:ListSubscriptionsByTopic'],
                Resource: topicArn,
              },
              {
                Sid: 'CloudWatchAlarmsPublish',
                Effect: 'Allow',
                Principal: { Service: 'cloudwatch.amazonaws.com' },
                Action: 'sns:Publish',
                Resource: topicArn,
                Condition: { StringEquals: { 'aws:SourceAccount': accountId } },
              },
              {
                Sid: 'TaskStoppedRulesPublish',
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Action: 'sns:Publish',
                Resource: topicArn,
                Condition: { ArnEquals: { 'aws:SourceArn': ruleArns } },
              },
            ],
          }),
        ),
      },
      { parent: this },
    );
  }
}
