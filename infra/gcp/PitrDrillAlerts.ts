/**
 * lifeboat:gcp:PitrDrillAlerts: a log-based metric on the PITR events and the policies that page on them: a PITR
 * drill failed (`pitr.drill.failed`), a heartbeat failed, and no drill passed within the drill's longest gap plus
 * slack (pitrAlertRules.ts). They notify the Alerts component's channels.
 */
import * as pulumi from '@pulumi/pulumi';
import * as gcp from '@pulumi/gcp';
import { EVENTS } from '../../runner/contract/events';
import { METRIC_LABELS, eventFilter, promCountAbove0, runnerLogScope } from './alertRules';
import { PITR_COUNTED_EVENTS, missingDrillQuery, pitrMetricName } from './pitrAlertRules';

export interface PitrDrillAlertsArgs {
  project: string;
  region: string;
  /** Job name prefix: scopes the filter to this stack's jobs. */
  prefix: string;
  /** Sources with a scheduled PITR drill. */
  sources: string[];
  /** A drill must pass within this many seconds (the schedule's longest gap plus slack). */
  drillWindowSeconds: number;
  /** Notification channel names (the Alerts component's). */
  channels: pulumi.Input<string>[];
  /** Default: {}. */
  labels?: Record<string, string>;
}

export class PitrDrillAlerts extends pulumi.ComponentResource {
  constructor(name: string, args: PitrDrillAlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:gcp:PitrDrillAlerts', name, {}, opts);
    if (args.sources.length === 0) throw new pulumi.ResourceError(`${name}: sources: expected at least one source with a PITR drill, got none`, this);
    if (!(args.drillWindowSeconds >= 3600)) throw new pulumi.ResourceError(`${name}: drillWindowSeconds: expected at least 3600, got ${args.drillWindowSeconds}`, this);
    const project = args.project;
    const scope = runnerLogScope(args.prefix, args.sources);
    const metric = pitrMetricName(args.prefix);
    const events = new gcp.logging.Metric(`${name}-events`, {
      project,
      name: metric,
      description: 'Lifeboat point-in-time recovery outcomes (final events) by event and source',
      filter: eventFilter(scope, PITR_COUNTED_EVENTS),
      metricDescriptor: {
        metricKind: 'DELTA',
        valueType: 'INT64',
        unit: '1',
        labels: [
          { key: METRIC_LABELS.event.key, valueType: 'STRING', description: 'runner event name' },
          { key: METRIC_LABELS.source.key, valueType: 'STRING', description: 'protected source' },
        ],
      },
      labelExtractors: { [METRIC_LABELS.event.key]: METRIC_LABELS.event.extractor, [METRIC_LABELS.source.key]: METRIC_LABELS.source.extractor },
    }, { parent: this });
    const common = (alert: string, source?: string) => ({
      project,
      notificationChannels: args.channels,
      userLabels: { ...(args.labels ?? {}), 'lifeboat-alert': alert, ...(source ? { 'lifeboat-source': source } : {}) },
      enabled: true,
      combiner: 'OR',
    });
    // PromQL with metric validation off: the log-based metric has no data (so, for Cloud Monitoring, does not
    // exist) until a PITR event is logged, and a threshold condition on it would fail the stack's first `up`.
    const countAbove0 = (event: string) => ({ query: promCountAbove0(metric, { event }), duration: '0s', evaluationInterval: '60s', disableMetricValidation: true });
    const execute = (task: string) => `gcloud run jobs execute ${args.prefix}-<source>-${task} --project ${project} --region ${args.region} --wait`;
    const doc = (lines: string[]) => ({ content: lines.join('\n'), mimeType: 'text/markdown' });

    new gcp.monitoring.AlertPolicy(`${name}-drill-failed`, {
      ...common('pitr-drill-failed'),
      displayName: `Lifeboat ${args.prefix}: point-in-time recovery drill failed`,
      severity: 'CRITICAL',
      conditions: [{ displayName: `a PITR drill ended with ${EVENTS.pitrDrillFailed}`, conditionPrometheusQueryLanguage: countAbove0(EVENTS.pitrDrillFailed) }],
      documentation: doc([
        'A point-in-time recovery drill failed: the clone to a moment an hour ago did not come up, did not hold what the database held then, or was not deleted.',
        '',
        `1. Read the event: \`gcloud logging read '${eventFilter(scope, [EVENTS.pitrDrillFailed])}' --project ${project} --limit 1\` and the report under drills/pitr/<source>/.`,
        `2. Look for a clone left behind: \`gcloud sql instances list --project ${project}\` (the drill names and labels its clones; delete one once understood).`,
        `3. Re-run: \`${execute('pitr-drill')}\`. Until one passes, the recovery window is unproven.`,
      ]),
    }, { parent: this, dependsOn: [events] });

    new gcp.monitoring.AlertPolicy(`${name}-heartbeat-failed`, {
      ...common('pitr-heartbeat-failed'),
      displayName: `Lifeboat ${args.prefix}: PITR heartbeat failed`,
      severity: 'WARNING',
      conditions: [{ displayName: `a heartbeat ended with ${EVENTS.pitrHeartbeatFailed}`, conditionPrometheusQueryLanguage: countAbove0(EVENTS.pitrHeartbeatFailed) }],
      documentation: doc([
        'A PITR heartbeat could not be written: drills lose the exact moment they check against.',
        '',
        `1. Read it: \`gcloud logging read '${eventFilter(scope, [EVENTS.pitrHeartbeatFailed])}' --project ${project} --limit 5\``,
        `2. Run one now: \`${execute('pitr-heartbeat')}\``,
      ]),
    }, { parent: this, dependsOn: [events] });

    for (const source of args.sources) {
      new gcp.monitoring.AlertPolicy(`${name}-${source}-drill-missing`, {
        ...common('pitr-drill-missing', source),
        displayName: `Lifeboat ${args.prefix}: no passing PITR drill of ${source} in ${Math.round(args.drillWindowSeconds / 3600)}h`,
        severity: 'CRITICAL',
        conditions: [{
          displayName: `no ${EVENTS.pitrDrillSucceeded} of ${source}`,
          conditionPrometheusQueryLanguage: {
            query: missingDrillQuery(args.prefix, source, args.drillWindowSeconds),
            duration: '0s',
            evaluationInterval: '300s',
            // The metric exists only once a PITR event was logged: a new stack's policy must be creatable before that.
            disableMetricValidation: true,
          },
        }],
        documentation: doc([
          `No point-in-time recovery drill of ${source} passed within its schedule plus slack: the job did not run, was killed, or failed.`,
          '',
          `1. Is the schedule there and enabled? \`gcloud scheduler jobs list --project ${project} --location ${args.region}\``,
          `2. Run it now: \`${execute('pitr-drill').replace('<source>', source)}\``,
        ]),
      }, { parent: this, dependsOn: [events] });
    }
    this.registerOutputs({ metric });
  }
}
