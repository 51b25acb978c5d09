/**
 * The CloudWatch dashboard of a stack, built from the metrics its metric filters already publish (alertRules.ts):
 * per source, backups published and failed, stored size, duration, and drills failed. One line per source in
 * each widget, selected by the Source dimension; an explanatory text widget on top.
 */
import { METRICS, SOURCE_DIMENSION, type MetricKey } from './alertRules';

export interface CloudWatchDashboardInput {
  region: string;
  /** The metric filters' namespace, e.g. `Lifeboat/lifeboat-prod`. */
  namespace: string;
  sources: readonly string[];
  /** Sources that run drills (Redis has none). */
  drillSources: readonly string[];
}

interface Widget {
  type: 'metric' | 'text';
  x: number;
  y: number;
  width: number;
  height: number;
  properties: Record<string, unknown>;
}

/** A CloudWatch dashboard name: letters, digits, `-` and `_`, from the namespace. */
export function dashboardName(namespace: string): string {
  return namespace.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 255);
}

export function cloudWatchDashboardBody(input: CloudWatchDashboardInput): { widgets: Widget[] } {
  const lines = (metric: MetricKey, stat: string, sources: readonly string[]) =>
    sources.map((s) => [input.namespace, METRICS[metric], SOURCE_DIMENSION, s, { stat, label: s }]);
  const graph = (title: string, metric: MetricKey, stat: string, x: number, y: number, sources = input.sources, extra: Record<string, unknown> = {}): Widget => ({
    type: 'metric',
    x,
    y,
    width: 12,
    height: 6,
    properties: { title, region: input.region, view: 'timeSeries', stacked: false, period: 3600, metrics: lines(metric, stat, sources), ...extra },
  });
  const widgets: Widget[] = [
    {
      type: 'text',
      x: 0,
      y: 0,
      width: 24,
      height: 2,
      properties: {
        markdown: `## Lifeboat backups (${input.namespace})\nFrom the runner's final events (metric filters on its log group): one line per source. Alarms page on the same metrics.`,
      },
    },
    graph('Backups published per hour', 'backupSucceeded', 'Sum', 0, 2),
    graph('Backups failed per hour', 'backupFailed', 'Sum', 12, 2),
    graph('Stored size of the last backup (bytes)', 'backupBytes', 'Maximum', 0, 8, input.sources, { yAxis: { left: { min: 0 } } }),
    graph('Backup duration (seconds)', 'backupDurationSeconds', 'Maximum', 12, 8, input.sources, { yAxis: { left: { min: 0 } } }),
  ];
  if (input.drillSources.length) widgets.push(graph('Drills failed (a check, or an RPO/RTO target)', 'drillFailed', 'Sum', 0, 14, input.drillSources, { period: 86400 }));
  return { widgets };
}
