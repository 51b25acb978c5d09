/**
 * The Cloud Monitoring dashboard of a stack, built from the log-based metrics its Alerts component already
 * creates: `<prefix>-events` (final events by event and source) and the `<prefix>-backup-bytes` and
 * `<prefix>-backup-seconds` distributions. Charts per source: backups published and failed, stored size,
 * duration, drills passed and failed, status checks.
 */
import { BACKUP_FAILURE_EVENTS, BACKUP_SUCCESS_EVENTS, EVENTS, type EventName } from '../../runner/contract/events';
import { metricFilter } from './alertRules';

export interface MonitoringDashboardInput {
  /** The stack's name prefix: the log-based metrics are `<prefix>-events`, `<prefix>-backup-bytes`, ... */
  prefix: string;
}

interface Tile {
  xPos: number;
  yPos: number;
  width: number;
  height: number;
  widget: Record<string, unknown>;
}

const HOUR = '3600s';

function countChart(title: string, metric: string, events: readonly EventName[], groupBy: string[]): Record<string, unknown> {
  return {
    title,
    xyChart: {
      chartOptions: { mode: 'COLOR' },
      dataSets: [
        {
          plotType: 'STACKED_BAR',
          targetAxis: 'Y1',
          timeSeriesQuery: {
            timeSeriesFilter: {
              filter: metricFilter(metric, { event: events }),
              aggregation: { alignmentPeriod: HOUR, perSeriesAligner: 'ALIGN_SUM', crossSeriesReducer: 'REDUCE_SUM', groupByFields: groupBy },
            },
          },
        },
      ],
    },
  };
}

function distributionChart(title: string, metric: string, unitLabel: string): Record<string, unknown> {
  return {
    title,
    xyChart: {
      chartOptions: { mode: 'COLOR' },
      yAxis: { label: unitLabel, scale: 'LINEAR' },
      dataSets: [
        {
          plotType: 'LINE',
          targetAxis: 'Y1',
          timeSeriesQuery: {
            timeSeriesFilter: {
              filter: metricFilter(metric, {}),
              aggregation: { alignmentPeriod: HOUR, perSeriesAligner: 'ALIGN_PERCENTILE_99', crossSeriesReducer: 'REDUCE_MAX', groupByFields: ['metric.label.source'] },
            },
          },
        },
      ],
    },
  };
}

export function monitoringDashboard(input: MonitoringDashboardInput): { displayName: string; mosaicLayout: { columns: number; tiles: Tile[] } } {
  const events = `${input.prefix}-events`;
  const bySource = ['metric.label.source'];
  const widgets = [
    countChart('Backups published per hour, by source', events, BACKUP_SUCCESS_EVENTS, bySource),
    countChart('Backups failed per hour, by source', events, BACKUP_FAILURE_EVENTS, bySource),
    distributionChart('Stored size of published backups', `${input.prefix}-backup-bytes`, 'bytes'),
    distributionChart('Duration of published backups', `${input.prefix}-backup-seconds`, 'seconds'),
    countChart('Drills by outcome (failed: a check, or an RPO/RTO target)', events, [EVENTS.drillSucceeded, EVENTS.drillFailed], ['metric.label.source', 'metric.label.event']),
    countChart('Status checks by outcome', events, [EVENTS.statusHealthy, EVENTS.statusUnhealthy], ['metric.label.source', 'metric.label.event']),
  ];
  const tiles: Tile[] = [
    {
      xPos: 0,
      yPos: 0,
      width: 12,
      height: 2,
      widget: { title: 'Lifeboat', text: { format: 'MARKDOWN', content: `Backups of **${input.prefix}**, from the runner's final events (log-based metrics). The alert policies page on the same metrics.` } },
    },
    ...widgets.map((widget, i) => ({ xPos: (i % 2) * 6, yPos: 2 + Math.floor(i / 2) * 4, width: 6, height: 4, widget })),
  ];
  return { displayName: `Lifeboat ${input.prefix}`, mosaicLayout: { columns: 12, tiles } };
}
