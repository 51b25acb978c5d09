import * as pulumi from '@pulumi/pulumi';
import * as gcp from '@pulumi/gcp';
import { BACKUP_FAILURE_EVENTS, BACKUP_SUCCESS_EVENTS, EVENTS, EVENT_FIELDS } from '../../runner/contract/events';
import type { AlertsConfig } from '../config/common';
import { monitoringDashboard } from './dashboard';
import { COUNTED_EVENTS, METRIC_LABELS, eventFilter, payloadField, promAbsent, promCountAbove0, runnerLogScope, slowBackupFilter, smallBackupFilter } from './alertRules';

export interface AlertSource {
  source: string;
  engine: 'postgres' | 'redis';
  sizeFloorBytes: number;
  slowAfterSeconds: number;
  /** Whether drills run for it. */
  drills: boolean;
}

export interface AlertsArgs {
  project: string;
  region: string;
  /** Job name prefix: scopes every filter to this stack's jobs. */
  prefix: string;
  sources: AlertSource[];
  channels: AlertsConfig;
  /** The storage URL, for the runbooks. */
  storage: string;
  /** How long without a status event (the hourly status job) before alerting. Default: 3h. */
  statusSilenceSeconds?: number;
  /** Default: {}. */
  labels?: Record<string, string>;
}

/** `projects/<project>/notificationChannels/<id>` for a bare channel id; full names are kept as given. */
export function notificationChannelName(project: string, channel: string): string {
  return channel.startsWith('projects/') ? channel : `projects/${project}/notificationChannels/${channel}`;
}

function runbook(lines: string[]): { content: string; mimeType: string } {
  return { content: lines.join('\n'), mimeType: 'text/markdown' };
}

/**
 * Log-based metrics on the runner's final events and the alert policies that page on them: backup failed, backups
 * stale (the hourly `lifeboat status` job says so, or stopped reporting), backup below the size floor, backup
 * slower than the threshold, drill failed (which includes a missed RPO/RTO target: the drill exits 1).
 */
export class Alerts extends pulumi.ComponentResource {
  readonly channelIds: pulumi.Output<string>[];

  constructor(name: string, args: AlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:gcp:Alerts', name, {}, opts);
    if (args.sources.length === 0) throw new pulumi.ResourceError(`Alerts ${name}: no sources to alert on`, this);
    const scope = runnerLogScope(args.prefix, args.sources.map((x) => x.source));
    const project = args.project;
    const jobs = (task: string) => `gcloud run jobs executions list --project ${project} --region ${args.region} --job ${args.prefix}-<source>-${task}`;

    // Notification channels: credentials come from Secret Manager during `pulumi up` only, never at preview (the
    // preview identity reads no secret value), and stay secret in state. At preview the credential is left out:
    // an existing channel keeps the one it was created with (ignoreChanges: a rotated key is applied with
    // `pulumi up --replace <channel urn>`), and a new one gets it when `up` creates it.
    const credential = (key: string, secret: string): pulumi.Output<string> | undefined =>
      pulumi.runtime.isDryRun()
        ? undefined
        : pulumi.secret(pulumi.output(gcp.secretmanager.getSecretVersionAccess({ project, secret }, { parent: this }).then(
            (v) => v.secretData,
            (e: unknown) => {
              throw new pulumi.ResourceError(
                `Alerts ${name}: ${key}: cannot read the latest version of secret ${secret} in project ${project} (${(e as Error).message ?? String(e)}); ` +
                  `create it and write its value first: printf '%s' '<value>' | gcloud secrets create ${secret} --project ${project} --data-file=-`,
                this,
              );
            },
          )));
    const sensitive = <K extends string>(label: K, value: pulumi.Output<string> | undefined) => (value ? { sensitiveLabels: { [label]: value } as Record<K, pulumi.Output<string>> } : {});
    const channels: pulumi.Output<string>[] = [];
    args.channels.emails.forEach((email, i) => {
      channels.push(new gcp.monitoring.NotificationChannel(`${name}-email-${i}`, {
        project, type: 'email', displayName: `Lifeboat ${args.prefix}: ${email}`, labels: { email_address: email },
      }, { parent: this }).name);
    });
    args.channels.pagerduty.forEach((pd, i) => {
      channels.push(new gcp.monitoring.NotificationChannel(`${name}-pagerduty-${i}`, {
        project, type: 'pagerduty', displayName: `Lifeboat ${args.prefix}: PagerDuty ${pd.name}`,
        ...sensitive('serviceKey', credential(`lifeboat:alerts.pagerduty[${i}].serviceKeySecret`, pd.serviceKeySecret)),
      }, { parent: this, ignoreChanges: ['sensitiveLabels'] }).name);
    });
    args.channels.slack.forEach((sl, i) => {
      channels.push(new gcp.monitoring.NotificationChannel(`${name}-slack-${i}`, {
        project, type: 'slack', displayName: `Lifeboat ${args.prefix}: Slack ${sl.channel}`,
        labels: { channel_name: sl.channel.startsWith('#') ? sl.channel : `#${sl.channel}` },
        ...sensitive('authToken', credential(`lifeboat:alerts.slack[${i}].authTokenSecret`, sl.authTokenSecret)),
      }, { parent: this, ignoreChanges: ['sensitiveLabels'] }).name);
    });
    // Alert policies take full channel names; an id alone (what the console shows) is completed with the project.
    channels.push(...args.channels.existingChannels.map((c) => pulumi.output(notificationChannelName(project, c))));
    this.channelIds = channels;

    const labelDescriptors = [
      { key: METRIC_LABELS.event.key, valueType: 'STRING', description: 'runner event name' },
      { key: METRIC_LABELS.source.key, valueType: 'STRING', description: 'protected source' },
    ];
    const events = new gcp.logging.Metric(`${name}-events`, {
      project,
      name: `${args.prefix}-events`,
      description: 'Lifeboat runner outcomes (final events) by event and source',
      filter: eventFilter(scope, COUNTED_EVENTS),
      metricDescriptor: { metricKind: 'DELTA', valueType: 'INT64', unit: '1', labels: labelDescriptors },
      labelExtractors: { [METRIC_LABELS.event.key]: METRIC_LABELS.event.extractor, [METRIC_LABELS.source.key]: METRIC_LABELS.source.extractor },
    }, { parent: this });
    const distribution = (role: string, field: string, unit: string, description: string) =>
      new gcp.logging.Metric(`${name}-${role}`, {
        project,
        name: `${args.prefix}-${role}`,
        description,
        filter: eventFilter(scope, BACKUP_SUCCESS_EVENTS),
        metricDescriptor: { metricKind: 'DELTA', valueType: 'DISTRIBUTION', unit, labels: [labelDescriptors[1]!] },
        valueExtractor: `EXTRACT(${field})`,
        labelExtractors: { [METRIC_LABELS.source.key]: METRIC_LABELS.source.extractor },
        bucketOptions: { exponentialBuckets: { numFiniteBuckets: 64, growthFactor: 2, scale: 1 } },
      }, { parent: this });
    const bytes = distribution('backup-bytes', payloadField(EVENT_FIELDS.bytes), 'By', 'Stored size of published backups');
    const duration = distribution('backup-seconds', payloadField(EVENT_FIELDS.durationSeconds), 's', 'Duration of published backups');
    // A dashboard of the same metrics, for people (the policies below page on them).
    new gcp.monitoring.Dashboard(`${name}-dashboard`, {
      project,
      dashboardJson: JSON.stringify(monitoringDashboard({ prefix: args.prefix })),
    }, { parent: this, dependsOn: [events, bytes, duration] });

    const common = (alert: string) => ({
      project,
      notificationChannels: channels,
      userLabels: { ...(args.labels ?? {}), 'lifeboat-alert': alert },
      enabled: true,
    });
    const eventsMetric = `${args.prefix}-events`;
    // PromQL on the log-based metrics, metric validation off: accepted before the metric has its first point (a
    // threshold condition is refused with 404 "Cannot find metric(s)" for minutes after the metric is created).
    const promql = (query: string, duration = '0s') => ({ query, duration, evaluationInterval: '60s', disableMetricValidation: true });

    new gcp.monitoring.AlertPolicy(`${name}-backup-failed`, {
      ...common('backup-failed'),
      displayName: `Lifeboat ${args.prefix}: backup failed`,
      combiner: 'OR',
      severity: 'CRITICAL',
      conditions: [{ displayName: 'a backup ended with a failure event', conditionPrometheusQueryLanguage: promql(promCountAbove0(eventsMetric, { event: BACKUP_FAILURE_EVENTS })) }],
      documentation: runbook([
        `A Lifeboat backup failed (event ${BACKUP_FAILURE_EVENTS.join(' or ')}). The previous backups are intact.`,
        '',
        `1. Read the failure: \`gcloud logging read '${eventFilter(scope, BACKUP_FAILURE_EVENTS)}' --project ${project} --limit 5\``,
        `   (\`${EVENT_FIELDS.errorCode}\` and \`${EVENT_FIELDS.message}\` say what failed; exit code 2 means bad config: retrying will not help).`,
        `2. See the executions: \`${jobs('backup')}\``,
        `3. After fixing, run a backup now: \`gcloud run jobs execute ${args.prefix}-<source>-backup --project ${project} --region ${args.region} --wait\``,
      ]),
    }, { parent: this, dependsOn: [events] });

    new gcp.monitoring.AlertPolicy(`${name}-backup-stale`, {
      ...common('backup-stale'),
      displayName: `Lifeboat ${args.prefix}: no recent successful backup`,
      combiner: 'OR',
      severity: 'CRITICAL',
      conditions: [
        { displayName: 'lifeboat status reports a source unhealthy (too old or too small)', conditionPrometheusQueryLanguage: promql(promCountAbove0(eventsMetric, { event: EVENTS.statusUnhealthy })) },
        {
          displayName: 'the status check stopped reporting',
          conditionPrometheusQueryLanguage: promql(promAbsent(eventsMetric, args.sources.map((x) => x.source), { event: [EVENTS.statusHealthy, EVENTS.statusUnhealthy] }, args.statusSilenceSeconds ?? 3 * 3600)),
        },
      ],
      documentation: runbook([
        'The newest complete backup of a source is older than its maximum age (or smaller than its floor), or the hourly status check stopped running.',
        '',
        `1. Check: \`npm run lifeboat -- status --storage ${args.storage} --json\` (or \`gcloud run jobs execute ${args.prefix}-<source>-status --project ${project} --region ${args.region} --wait\`).`,
        `2. Did backups run? \`${jobs('backup')}\`; is the schedule paused? \`gcloud scheduler jobs list --project ${project} --location ${args.region}\``,
        `3. Take a backup now: \`gcloud run jobs execute ${args.prefix}-<source>-backup --project ${project} --region ${args.region} --wait\``,
      ]),
    }, { parent: this, dependsOn: [events] });

    for (const s of args.sources) {
      const published = s.engine === 'redis' ? [EVENTS.redisBackupSucceeded] : [EVENTS.backupSucceeded];
      const logAlert = { notificationRateLimit: { period: '3600s' }, autoClose: '1800s' };
      // A floor of 0 bytes means "no size alert": a condition `bytes<0` would never match, a policy that cannot fire.
      if (s.sizeFloorBytes > 0) new gcp.monitoring.AlertPolicy(`${name}-${s.source}-backup-small`, {
        ...common('backup-small'),
        displayName: `Lifeboat ${args.prefix}: ${s.source} backup smaller than ${s.sizeFloorBytes} bytes`,
        combiner: 'OR',
        severity: 'ERROR',
        conditions: [{ displayName: `${s.source} backup below the size floor`, conditionMatchedLog: { filter: smallBackupFilter(scope, s.source, s.sizeFloorBytes, published) } }],
        alertStrategy: logAlert,
        documentation: runbook([
          `A backup of ${s.source} was published with fewer than ${s.sizeFloorBytes} stored bytes: the source may have lost data, or the dump missed tables.`,
          '',
          `1. Compare with earlier backups: \`npm run lifeboat -- list --storage ${args.storage} --source ${s.source}\``,
          `2. Check it restores and what it holds: \`npm run lifeboat -- verify latest --storage ${args.storage} --source ${s.source}\``,
        ]),
      }, { parent: this, dependsOn: [bytes] });
      new gcp.monitoring.AlertPolicy(`${name}-${s.source}-backup-slow`, {
        ...common('backup-slow'),
        displayName: `Lifeboat ${args.prefix}: ${s.source} backup slower than ${s.slowAfterSeconds}s`,
        combiner: 'OR',
        severity: 'WARNING',
        conditions: [{ displayName: `${s.source} backup slower than the threshold`, conditionMatchedLog: { filter: slowBackupFilter(scope, s.source, s.slowAfterSeconds, published) } }],
        alertStrategy: logAlert,
        documentation: runbook([
          `A backup of ${s.source} took longer than ${s.slowAfterSeconds}s: it will soon hit the job's timeout.`,
          '',
          `1. See recent durations: \`gcloud logging read '${eventFilter(scope, published)} AND ${payloadField(EVENT_FIELDS.source)}="${s.source}"' --project ${project} --limit 10 --format 'value(jsonPayload.durationSeconds)'\` (metric logging.googleapis.com/user/${args.prefix}-backup-seconds).`,
          '2. Raise `lifeboat:gcp.job.timeout` / CPU, or move the schedule away from load peaks.',
        ]),
      }, { parent: this, dependsOn: [duration] });
    }

    if (args.sources.some((s) => s.drills)) {
      new gcp.monitoring.AlertPolicy(`${name}-drill-failed`, {
        ...common('drill-failed'),
        displayName: `Lifeboat ${args.prefix}: restore drill failed or missed RPO/RTO`,
        combiner: 'OR',
        severity: 'CRITICAL',
        conditions: [{ displayName: 'a drill ended with drill.failed', conditionPrometheusQueryLanguage: promql(promCountAbove0(eventsMetric, { event: EVENTS.drillFailed })) }],
        documentation: runbook([
          `A restore drill failed: the newest backup did not restore, row counts differ, or the RPO/RTO target was missed (\`${EVENT_FIELDS.rpoSeconds}\` vs \`${EVENT_FIELDS.rpoTargetSeconds}\`, \`${EVENT_FIELDS.rtoSeconds}\` vs \`${EVENT_FIELDS.rtoTargetSeconds}\`).`,
          '',
          `1. Read the report: \`gcloud logging read '${eventFilter(scope, [EVENTS.drillFailed])}' --project ${project} --limit 1\``,
          `2. Re-run: \`gcloud run jobs execute ${args.prefix}-<source>-drill --project ${project} --region ${args.region} --wait\``,
          `3. Until a drill passes, treat the backups of that source as unproven.`,
        ]),
      }, { parent: this, dependsOn: [events] });
    }
    this.registerOutputs({ channels });
  }
}
