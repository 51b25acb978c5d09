/**
 * lifeboat:aws:PitrAlarms: metric filters on the runner's PITR events and the alarms that page on them
 * (pitrAlarmRules.ts): PITR drill failed or missing, heartbeat failed, WAL archiving unhealthy. They page the
 * stack's alert topic (Alerts), in the same metric namespace.
 */
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { EVENT_FIELDS } from '../../runner/contract/events';
import { PITR_METRICS, SOURCE_DIMENSION, pitrAlarmSpecs, pitrMetricFilterSpecs, type PitrAlarmInput } from './pitrAlarmRules';

export interface PitrAlarmsArgs {
  region: string;
  /** The runner's log group (RunnerTasks). */
  logGroupName: pulumi.Input<string>;
  /** Plain log group name, for the runbooks in alarm descriptions. */
  logGroupDisplayName: string;
  /** CloudWatch metric namespace, the Alerts component's. */
  namespace: string;
  sources: PitrAlarmInput[];
  /** Whether a self-hosted database's archiving is checked (an archiving alarm). Default: false. */
  archiving?: boolean;
  /** Topics every alarm and its recovery go to (the Alerts topic first). */
  topicArns: pulumi.Input<string>[];
  tags?: Record<string, string>;
}

export class PitrAlarms extends pulumi.ComponentResource {
  public readonly alarms: Record<string, aws.cloudwatch.MetricAlarm>;

  constructor(name: string, args: PitrAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:aws:PitrAlarms', name, {}, opts);
    if (args.sources.length === 0) throw new pulumi.ResourceError(`${name}: sources: expected at least one database with PITR, got none`, this);
    if (args.topicArns.length === 0) throw new pulumi.ResourceError(`${name}: topicArns: expected the alert topic, got none`, this);
    let specs;
    try {
      specs = pitrAlarmSpecs(args.sources, args.logGroupDisplayName, { archiving: args.archiving ?? false });
    } catch (e) {
      throw new pulumi.ResourceError(`${name}: ${(e as Error).message}`, this);
    }
    const tags = args.tags ?? {};
    const region = args.region;
    for (const f of pitrMetricFilterSpecs()) {
      if (f.metric === 'archivingUnhealthy' && !args.archiving) continue;
      new aws.cloudwatch.LogMetricFilter(
        `${name}-${f.role}`,
        {
          region,
          logGroupName: args.logGroupName,
          pattern: f.pattern,
          metricTransformation: {
            name: PITR_METRICS[f.metric],
            namespace: args.namespace,
            value: '1',
            unit: 'Count',
            ...(f.bySource ? { dimensions: { [SOURCE_DIMENSION]: `$.${EVENT_FIELDS.source}` } } : {}),
          },
        },
        { parent: this },
      );
    }
    this.alarms = {};
    for (const a of specs) {
      const id = a.source ? `${a.source}-${a.condition}` : a.condition;
      this.alarms[id] = new aws.cloudwatch.MetricAlarm(
        `${name}-${id}`,
        {
          region,
          alarmDescription: a.description,
          namespace: args.namespace,
          metricName: PITR_METRICS[a.metric],
          ...(a.source ? { dimensions: { [SOURCE_DIMENSION]: a.source } } : {}),
          statistic: 'Sum',
          period: a.period,
          evaluationPeriods: a.evaluationPeriods,
          datapointsToAlarm: a.evaluationPeriods,
          threshold: a.threshold,
          comparisonOperator: a.comparisonOperator,
          treatMissingData: a.treatMissingData,
          alarmActions: args.topicArns,
          okActions: args.topicArns,
          tags: { ...tags, ...(a.source ? { 'lifeboat-source': a.source } : {}), 'lifeboat-alert': a.condition },
        },
        { parent: this },
      );
    }
    this.registerOutputs({ alarms: Object.keys(this.alarms) });
  }
}
