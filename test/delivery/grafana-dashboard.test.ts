/**
 * deploy/grafana/lifeboat-dashboard.json charts what the scheduler serves: every query is valid PromQL (by
 * Prometheus's own grammar), names only metrics the runner registers and only labels those metrics carry, and
 * the metrics a person needs (last success, durations, stored bytes, failures, drill result, RTO, RPO) are all
 * on it. Panels sit on Grafana's 24-column grid without overlapping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { JobMetrics } from '../../runner/metrics/job-metrics';
import { parsePromql } from '../harness/promql';
import { REPO_ROOT } from './dockerfile-model';

interface Panel {
  id: number;
  title: string;
  type: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets: { expr: string; refId: string }[];
}
const dashboard = JSON.parse(readFileSync(path.join(REPO_ROOT, 'deploy/grafana/lifeboat-dashboard.json'), 'utf8')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string }[] };
};

const registry = new JobMetrics().registry;
function labelsOf(metric: string): string[] | undefined {
  const m = registry.getSingleMetric(metric) as unknown as { labelNames?: string[] } | undefined;
  return m ? (m.labelNames ?? []) : undefined;
}

test('every query parses and uses only metrics and labels the runner serves', () => {
  const used = new Set<string>();
  for (const p of dashboard.panels) {
    assert.ok(p.targets.length > 0, `${p.title} has a query`);
    for (const t of p.targets) {
      const { errors, selectors } = parsePromql(t.expr);
      assert.deepEqual(errors, [], `${p.title}: ${t.expr}`);
      for (const s of selectors) {
        const labels = labelsOf(s.metric);
        assert.ok(labels, `${p.title}: ${s.metric} is not a metric the runner registers`);
        for (const l of s.labels) assert.ok(labels.includes(l), `${p.title}: ${s.metric} has no label ${l}`);
        used.add(s.metric);
      }
    }
  }
  for (const m of [
    'lifeboat_last_success_timestamp_seconds',
    'lifeboat_last_duration_seconds',
    'lifeboat_stored_bytes',
    'lifeboat_consecutive_failures',
    'lifeboat_drill_passed',
    'lifeboat_drill_rto_seconds',
    'lifeboat_drill_rpo_seconds',
  ]) {
    assert.ok(used.has(m), `${m} is charted`);
  }
  // The check can fail: a broken query and an unknown metric are caught.
  assert.notDeepEqual(parsePromql('sum by (source (lifeboat_stored_bytes)').errors, []);
  assert.equal(labelsOf('lifeboat_stored_byte'), undefined);
});

test('panels have unique ids and tile the 24-column grid without overlapping', () => {
  assert.equal(dashboard.uid, 'lifeboat-backups');
  assert.deepEqual(dashboard.templating.list.map((v) => v.name), ['datasource', 'source']);
  const ids = dashboard.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const [i, a] of dashboard.panels.entries()) {
    assert.ok(a.gridPos.x >= 0 && a.gridPos.x + a.gridPos.w <= 24, `${a.title} fits the grid`);
    for (const b of dashboard.panels.slice(i + 1)) {
      const apart = a.gridPos.x + a.gridPos.w <= b.gridPos.x || b.gridPos.x + b.gridPos.w <= a.gridPos.x || a.gridPos.y + a.gridPos.h <= b.gridPos.y || b.gridPos.y + b.gridPos.h <= a.gridPos.y;
      assert.ok(apart, `${a.title} overlaps ${b.title}`);
    }
  }
});
