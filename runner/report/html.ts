/**
 * The report as one self-contained HTML page: inline CSS and inline SVG charts, no script and nothing fetched,
 * so it opens offline, prints, and can be attached to an audit. The charts are drawn here as plain SVG bars
 * rather than with a chart library: a library would have to be inlined (hundreds of KiB of script) for two
 * kinds of bar chart.
 */
import type { ReportBackup, SourceReport, StoreReport } from './gather';

export function renderReportHtml(r: StoreReport): string {
  const healthy = r.problems.length === 0;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lifeboat report: ${esc(r.storage)}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1100px; color: #1d2433; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #d5dae3; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.meta { color: #5b6477; }
.banner { border-radius: 6px; padding: 12px 16px; margin: 16px 0; }
.banner.bad { background: #fdecec; border: 1px solid #e5a3a3; } .banner.good { background: #e9f7ee; border: 1px solid #9fd3b0; }
.banner ul { margin: 6px 0 0; padding-left: 20px; }
table { border-collapse: collapse; margin: 6px 0; } th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #e6e9ef; }
th { font-weight: 600; background: #f5f7fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #17803d; font-weight: 600; } .fail { color: #b42318; font-weight: 600; }
svg { display: block; margin: 4px 0 12px; } .chart-title { font-weight: 600; margin-top: 10px; }
</style>
</head>
<body>
<h1>Lifeboat report</h1>
<div class="meta">Storage <code>${esc(r.storage)}</code> · generated ${esc(r.generatedAt)} · a gap is more than ${esc(duration(r.maxAgeSeconds))} without a backup</div>
<div class="banner ${healthy ? 'good' : 'bad'}" id="summary">
${healthy ? `<strong>Healthy:</strong> ${r.sources.length} source(s), every one with a recent backup, no gaps, and no failed last drill.` : `<strong>Unhealthy (${r.problems.length}):</strong><ul>${r.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>`}
</div>
<table>
<tr><th>source</th><th>engine</th><th>backups</th><th>newest</th><th>last drill</th><th>state</th></tr>
${r.sources
  .map((s) => {
    const newest = s.backups[s.backups.length - 1];
    const drill = s.drills[s.drills.length - 1];
    return `<tr><td><a href="#source-${esc(s.engine)}-${esc(s.source)}">${esc(s.source)}</a></td><td>${esc(s.engine)}</td><td class="num">${s.backups.length}</td><td>${newest ? esc(newest.snapshotAt) : '-'}</td><td>${drill ? (drill.passed ? '<span class="ok">passed</span>' : '<span class="fail">failed</span>') : '-'}</td><td>${s.problems.length ? '<span class="fail">unhealthy</span>' : '<span class="ok">healthy</span>'}</td></tr>`;
  })
  .join('\n')}
</table>
${r.sources.map(renderSource).join('\n')}
</body>
</html>
`;
}

function renderSource(s: SourceReport): string {
  const classes = Object.entries(s.classes).map(([c, n]) => `<tr><td>${esc(c)}</td><td class="num">${n}</td></tr>`).join('');
  return `<h2 id="source-${esc(s.engine)}-${esc(s.source)}">${esc(s.source)} <span class="meta">(${esc(s.engine)})</span></h2>
${s.problems.length ? `<div class="banner bad"><ul>${s.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul></div>` : ''}
<div class="chart-title">Stored size per backup</div>
${barChart(s.backups, (b) => b.storedBytes, bytes, '#3b6fd8')}
<div class="chart-title">Duration per backup</div>
${barChart(s.backups, (b) => b.durationSeconds, (v) => duration(v), '#7a55c7')}
<h3>Retention classes held</h3>
${classes ? `<table><tr><th>class</th><th>backups</th></tr>${classes}</table>` : '<p>none</p>'}
${s.incomplete ? `<p>${s.incomplete} incomplete backup folder(s) (no manifest): never listed or restored; prune removes them.</p>` : ''}
<h3>Gaps in the schedule</h3>
${s.gaps.length ? `<table><tr><th>from</th><th>to</th><th>without a backup</th></tr>${s.gaps.map((g) => `<tr><td>${esc(g.from)}</td><td>${g.open ? 'now' : esc(g.to)}</td><td class="num fail">${esc(duration(g.seconds))}</td></tr>`).join('')}</table>` : '<p>none</p>'}
<h3>Drills</h3>
${
  s.drills.length
    ? `<table><tr><th>started</th><th>backup</th><th>result</th><th>RTO</th><th>RTO target</th><th>RPO</th><th>RPO target</th></tr>${s.drills
        .slice()
        .reverse()
        .map(
          (d) =>
            `<tr><td>${esc(d.startedAt)}</td><td>${esc(d.backupId)}</td><td>${d.passed ? '<span class="ok">passed</span>' : `<span class="fail">failed</span> ${esc(d.failedChecks.join(', '))}`}</td><td class="num">${opt(d.rtoSeconds)}</td><td class="num">${opt(d.rtoTargetSeconds)}</td><td class="num">${opt(d.rpoSeconds)}</td><td class="num">${opt(d.rpoTargetSeconds)}</td></tr>`,
        )
        .join('')}</table>`
    : '<p>no drill has run</p>'
}
<h3>Backups</h3>
<table><tr><th>id</th><th>class</th><th>kind</th><th>snapshot</th><th>stored</th><th>duration</th></tr>${s.backups
    .slice()
    .reverse()
    .map((b) => `<tr><td>${esc(b.id)}</td><td>${esc(b.cls)}</td><td>${esc(b.kind)}</td><td>${esc(b.snapshotAt)}</td><td class="num">${bytes(b.storedBytes)}</td><td class="num">${esc(duration(b.durationSeconds))}</td></tr>`)
    .join('')}</table>`;
}

/** Bars in time order, one per backup, scaled to the largest; each bar's tooltip gives its backup and value. */
function barChart(backups: readonly ReportBackup[], value: (b: ReportBackup) => number, label: (v: number) => string, color: string): string {
  if (backups.length === 0) return '<p>no backups</p>';
  const width = 1000;
  const height = 160;
  const left = 70;
  const bottom = 22;
  const max = Math.max(...backups.map(value), 1e-9);
  const step = (width - left) / backups.length;
  const bar = Math.max(1, Math.min(40, step * 0.8));
  const bars = backups
    .map((b, i) => {
      const h = Math.max(1, (value(b) / max) * (height - bottom - 10));
      const x = left + i * step + (step - bar) / 2;
      return `<rect x="${x.toFixed(1)}" y="${(height - bottom - h).toFixed(1)}" width="${bar.toFixed(1)}" height="${h.toFixed(1)}" fill="${color}"><title>${esc(b.id)}: ${esc(label(value(b)))}</title></rect>`;
    })
    .join('');
  const first = backups[0]!.snapshotAt.slice(0, 16).replace('T', ' ');
  const last = backups[backups.length - 1]!.snapshotAt.slice(0, 16).replace('T', ' ');
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" height="${height}" role="img" aria-label="chart">
<line x1="${left}" y1="${height - bottom}" x2="${width}" y2="${height - bottom}" stroke="#9aa3b2"/>
<text x="${left - 6}" y="16" text-anchor="end" font-size="11" fill="#5b6477">${esc(label(max))}</text>
<text x="${left - 6}" y="${height - bottom}" text-anchor="end" font-size="11" fill="#5b6477">0</text>
<text x="${left}" y="${height - 6}" font-size="11" fill="#5b6477">${esc(first)} UTC</text>
<text x="${width}" y="${height - 6}" text-anchor="end" font-size="11" fill="#5b6477">${esc(last)} UTC</text>
${bars}
</svg>`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function opt(seconds: number | null): string {
  return seconds === null ? '-' : esc(duration(seconds));
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds * 10) / 10}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h${String(Math.round((seconds % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.round(seconds / 86400)}d`;
}
