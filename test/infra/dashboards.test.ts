/**
 * The cloud dashboards are built from the metrics the stacks already create: every CloudWatch widget line names
 * a metric a metric filter publishes, in the stack's namespace, with the Source dimension; every Cloud
 * Monitoring chart filters a log-based metric the Alerts component creates, on labels that metric has. Tiles fit
 * their grids without overlapping.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cloudWatchDashboardBody, dashboardName } from '../../infra/aws/dashboard';
import { METRICS, SOURCE_DIMENSION, metricFilterSpecs } from '../../infra/aws/alertRules';
import { monitoringDashboard } from '../../infra/gcp/dashboard';

type Box = { x: number; y: number; w: number; h: number; name: string };
function assertTiled(boxes: Box[], columns: number): void {
  for (const [i, a] of boxes.entries()) {
    assert.ok(a.x >= 0 && a.x + a.w <= columns, `${a.name} fits ${columns} columns`);
    for (const b of boxes.slice(i + 1)) {
      const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
      assert.ok(apart, `${a.name} overlaps ${b.name}`);
    }
  }
}

describe('CloudWatch dashboard', () => {
  const published = new Set<string>(metricFilterSpecs().map((f) => METRICS[f.metric]));
  for (const [title, input, widgets, drillLines] of [
    ['postgres and redis sources', { region: 'eu-west-1', namespace: 'Lifeboat/acme-prod', sources: ['main', 'cache'], drillSources: ['main'] }, 6, 1],
    ['redis only: no drill widget', { region: 'us-east-1', namespace: 'Lifeboat/x', sources: ['cache'], drillSources: [] }, 5, 0],
  ] as const) {
    it(title, () => {
      const body = cloudWatchDashboardBody(input);
      assert.equal(body.widgets.length, widgets);
      for (const w of body.widgets.filter((x) => x.type === 'metric')) {
        assert.equal(w.properties.region, input.region);
        for (const line of w.properties.metrics as unknown[][]) {
          const [ns, metric, dim, source] = line;
          assert.equal(ns, input.namespace);
          assert.ok(published.has(metric as string), `${String(metric)} is published by a metric filter`);
          assert.equal(dim, SOURCE_DIMENSION);
          assert.ok((input.sources as readonly string[]).includes(source as string));
        }
      }
      const drill = body.widgets.find((w) => String(w.properties.title).startsWith('Drills'));
      assert.equal((drill?.properties.metrics as unknown[] | undefined)?.length ?? 0, drillLines);
      assertTiled(body.widgets.map((w) => ({ x: w.x, y: w.y, w: w.width, h: w.height, name: String(w.properties.title ?? 'text') })), 24);
    });
  }
  it('names the dashboard from the namespace with the characters CloudWatch allows', () => {
    assert.equal(dashboardName('Lifeboat/acme-prod'), 'Lifeboat-acme-prod');
    assert.equal(dashboardName('Lifeboat/a b.c'), 'Lifeboat-a-b-c');
  });
});

describe('Cloud Monitoring dashboard', () => {
  it('charts the log-based metrics the Alerts component creates, on their labels', () => {
    const d = monitoringDashboard({ prefix: 'acme-prod' });
    assert.equal(d.displayName, 'Lifeboat acme-prod');
    const metrics = new Set(['acme-prod-events', 'acme-prod-backup-bytes', 'acme-prod-backup-seconds']);
    const seen = new Set<string>();
    for (const t of d.mosaicLayout.tiles) {
      const chart = t.widget.xyChart as { dataSets: { timeSeriesQuery: { timeSeriesFilter: { filter: string; aggregation: { groupByFields: string[] } } } }[] } | undefined;
      if (!chart) continue;
      for (const ds of chart.dataSets) {
        const { filter, aggregation } = ds.timeSeriesQuery.timeSeriesFilter;
        const m = /metric\.type="logging\.googleapis\.com\/user\/([^"]+)"/.exec(filter)?.[1];
        assert.ok(m && metrics.has(m), `${filter} names a metric of the stack`);
        seen.add(m);
        // The distributions carry only `source`; the events metric also `event`.
        const labels = m.endsWith('-events') ? ['source', 'event'] : ['source'];
        for (const g of aggregation.groupByFields) assert.ok(labels.includes(g.replace('metric.label.', '')), `${m} has no label ${g}`);
        for (const l of filter.matchAll(/metric\.label\.(\w+)=/g)) assert.ok(labels.includes(l[1]!), `${m} has no label ${l[1]}`);
      }
    }
    assert.deepEqual([...seen].sort(), [...metrics].sort());
    assertTiled(d.mosaicLayout.tiles.map((t) => ({ x: t.xPos, y: t.yPos, w: t.width, h: t.height, name: String(t.widget.title) })), d.mosaicLayout.columns);
  });
});
