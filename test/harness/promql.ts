/** PromQL in tests: Prometheus's own Lezer grammar, for the alert rules and the Grafana dashboard. */
import { parser as promql } from '@prometheus-io/lezer-promql';

/** Parses a PromQL expression (Prometheus's own Lezer grammar); syntax errors and the selectors it uses. */
export function parsePromql(expr: string): { errors: string[]; selectors: Array<{ metric: string; labels: string[] }> } {
  const errors: string[] = [];
  const selectors: Array<{ metric: string; labels: string[] }> = [];
  promql.parse(expr).iterate({
    enter: (n) => {
      if (n.type.isError) errors.push(`at ${n.from}: ${JSON.stringify(expr.slice(Math.max(0, n.from - 10), n.from + 10))}`);
      if (n.name === 'VectorSelector') {
        const node = n.node;
        const id = node.getChild('Identifier');
        const labels: string[] = [];
        for (const m of node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
          const l = m.getChild('LabelName');
          if (l) labels.push(expr.slice(l.from, l.to));
        }
        selectors.push({ metric: id ? expr.slice(id.from, id.to) : '', labels });
      }
    },
  });
  return { errors, selectors };
}
