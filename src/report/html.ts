// report.html: one self-contained page (inline CSS and SVG, no script, no external request; a
// Content-Security-Policy forbids any) that shows a run folder: the results table, the trade-offs,
// the searched cell, alpha over the search, every stage's training curves and the data. Each
// section is a <section id=...>; one whose files are missing says so in a <p class="missing">.
import type { DatasetStats } from '../data/stats.js';
import { alphaHeatmapSvg, tradeoffSvg } from './charts.js';
import { cellSvg } from './cell-svg.js';
import { lineChartSvg } from './line-chart.js';
import { isMissing, type CellView, type CurvesView, type DataView, type Estimate, type Part, type ReportPage, type ResultsView } from './page.js';
import { esc } from './svg.js';

/** The sections in page order: id and heading. */
export const SECTIONS = [
  ['results', 'Results'],
  ['tradeoff', 'Accuracy against cost'],
  ['cell', 'Searched cell'],
  ['alpha', 'Architecture weights over the search'],
  ['curves', 'Training curves'],
  ['data', 'Data'],
] as const;

const CSS = `
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; margin: 0; color: #222; background: #fafafa; }
header, main { max-width: 1280px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 20px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 0 0 12px; }
h3 { font-size: 14px; margin: 16px 0 8px; }
nav a { margin-right: 14px; font-size: 14px; }
.folder { color: #666; font-size: 13px; font-family: ui-monospace, monospace; }
.status { font-size: 14px; color: #444; }
section { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: 16px 20px; margin: 18px 0; }
.missing { color: #8a5a00; background: #fff8e6; border-left: 3px solid #e0a800; padding: 8px 12px; }
.note { font-size: 13px; color: #555; max-width: 1000px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 4px 8px; border-bottom: 1px solid #eee; text-align: right; vertical-align: top; }
th { background: #f4f4f4; position: sticky; top: 0; }
td.name, th.name, td.text { text-align: left; }
td.name { min-width: 210px; }
tr.teacher td.name { color: #d55e00; } tr.student td.name { color: #0072b2; font-weight: 600; }
.ci { display: block; color: #777; font-size: 11px; white-space: nowrap; }
.ops { font-size: 11px; color: #555; text-align: left; max-width: 260px; }
.figures { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.figures > figure { margin: 0; }
svg { max-width: 100%; height: auto; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(600px, 1fr)); gap: 14px; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 6px; }
.card { border: 1px solid #eee; border-radius: 4px; padding: 8px; }
.card h3 { margin: 0 0 2px; font-family: ui-monospace, monospace; }
.card .status { font-size: 12px; margin: 0 0 2px; }
.bar { display: inline-block; height: 10px; background: #4292c6; vertical-align: middle; }
`;

// a figure an older results.json lacks shows as a dash
const fixed = (x: number | undefined, digits: number): string => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits));
const f4 = (x: number | undefined): string => fixed(x, 4);
const count = (x: number): string => (!Number.isFinite(x) ? '—' : x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : String(x));
const int = (x: number): string => x.toLocaleString('en-US');

/** An SVG document inlined into the page: no XML declaration, its ids prefixed so that two pictures never share one. */
export function inlineSvg(svg: string, prefix: string): string {
  return svg.replace(/^<\?xml[^>]*\?>\s*/, '')
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${prefix}-${id})`)
    .trimEnd();
}

const missing = (m: { missing: string }): string => `<p class="missing">${esc(m.missing)}</p>`;
const render = <T>(part: Part<T>, f: (t: T) => string): string => (isMissing(part) ? missing(part) : f(part));

/** A metric cell: the mean, and under it the 95% interval over seeds (each seed's value on hover). */
function estimateCell(e: Estimate | undefined): string {
  if (!e) return '<td>—</td>';
  const title = e.seeds.length > 1 ? ` title="${esc(`seeds: ${e.seeds.map((s) => s.toFixed(4)).join(', ')}`)}"` : '';
  const ci = e.low !== undefined && e.high !== undefined ? `<span class="ci">[${f4(e.low)}, ${f4(e.high)}]</span>` : '';
  return `<td${title}>${f4(e.mean)}${ci}</td>`;
}

function resultsSection(r: ResultsView): string {
  const teacher = r.rows.find((x) => x.kind === 'teacher');
  const head = ['model', 'seeds', 'HR@10', 'NDCG@10', 'MRR@10', 'HR@5 (s)', 'NDCG@5 (s)', 'MRR@5 (s)', 'params', 'non-emb. params', 'MACs', 'p50 ms', 'speed-up', 'cell'];
  const speedup = (ms: number): string => { const v = teacher ? teacher.latencyMs / ms : NaN; return Number.isFinite(v) ? `${v.toFixed(1)}x` : '—'; };
  const rows = r.rows.map((x) => {
    const link = x.stages.length > 0 ? `<a href="#curves-${esc(x.stages[0])}">${esc(x.name)}</a>` : esc(x.name);
    return `<tr class="${x.kind}"><td class="name">${link}</td><td>${x.seeds}</td>` +
      ['hr@10', 'ndcg@10', 'mrr@10'].map((m) => estimateCell(x.full[m])).join('') +
      ['hr@5', 'ndcg@5', 'mrr@5'].map((m) => `<td>${f4(x.sampled?.[m])}</td>`).join('') +
      `<td>${count(x.params)}</td><td>${count(x.nonEmbeddingParams)}</td><td>${count(x.macs)}</td><td>${fixed(x.latencyMs, 2)}</td>` +
      `<td>${speedup(x.latencyMs)}</td><td class="ops">${esc((x.genotype ?? []).join(', '))}</td></tr>`;
  });
  return (r.final ? '' : missing({ missing: 'results.json is not written yet (the run is in progress or stopped): the rows are the stages finished so far, one per stage and its seeds' })) +
    `<table id="results-table"><thead><tr>${head.map((h, i) => `<th${i === 0 ? ' class="name"' : ''}>${h}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>` + r.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('');
}

function cellSection(cells: CellView[]): string {
  return cells.map((c, i) => {
    const distinct = c.cells.some((ops) => ops.join() !== c.cells[0].join());
    const list = distinct ? `<p class="note">The cells differ (a per-cell search): ${c.cells.map((ops, k) => `cell ${k + 1}: ${esc(ops.join(', '))}`).join('; ')}.</p>` : '';
    return `${c.note ? `<p class="note">${esc(c.note)}</p>` : ''}<figure>${inlineSvg(cellSvg(c.picture), `cell${i}`)}</figure>${list}`;
  }).join('');
}

function curveCard(c: CurvesView, i: number): string {
  const loss = lineChartSvg({ title: c.lossName, y: 'loss', series: c.loss });
  const valid = lineChartSvg({ title: `validation ${c.metricName}`, y: c.metricName, series: c.validation });
  return `<div class="card" id="curves-${esc(c.group)}" data-stage="${esc(c.group)}"><h3>${esc(c.group)}</h3>` +
    `${c.status.map((s) => `<p class="status">${esc(s)}</p>`).join('')}<div class="pair">${inlineSvg(loss, `loss${i}`)}${inlineSvg(valid, `valid${i}`)}</div></div>`;
}

function statsTable(s: DatasetStats): string {
  const rows: [string, string][] = [
    ['sequences', int(s.sequences)], ['items', int(s.items)], ['interactions', int(s.interactions)],
    ['density', `${(s.density * 100).toPrecision(3)}%`],
    ['length min / median / mean / p90 / max', `${int(s.length.min)} / ${s.length.median} / ${s.length.mean.toFixed(1)} / ${int(s.length.p90)} / ${int(s.length.max)}`],
    s.order === 'file' ? ['order', 'file order (no timestamps)'] : ['same time as previous', `${int(s.tiedWithPrevious)} (${s.interactions ? ((100 * s.tiedWithPrevious) / s.interactions).toFixed(1) : '0.0'}%)`],
  ];
  const peak = Math.max(1, ...s.histogram.map((h) => h.count));
  const hist = s.histogram.map((h) => `<tr><td class="text">${h.from === h.to ? h.from : `${h.from}-${h.to}`}</td><td>${int(h.count)}</td>` +
    `<td class="text"><span class="bar" style="width:${Math.round((200 * h.count) / peak)}px"></span></td></tr>`).join('');
  const top = s.topItems.map((t) => `<tr><td class="text">${esc(t.key)}</td><td>${int(t.count)}</td></tr>`).join('');
  return '<div class="figures">' +
    `<figure><table id="data-stats"><tbody>${rows.map(([k, v]) => `<tr><td class="text">${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</tbody></table></figure>` +
    (hist ? `<figure><table id="data-lengths"><thead><tr><th class="name">sequence length</th><th>sequences</th><th></th></tr></thead><tbody>${hist}</tbody></table></figure>` : '') +
    (top ? `<figure><table id="data-top"><thead><tr><th class="name">top item</th><th>interactions</th></tr></thead><tbody>${top}</tbody></table></figure>` : '') +
    '</div>';
}

function dataSection(d: DataView): string {
  const options = Object.entries(d.options).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ');
  return `<p>source: <code>${esc(d.source)}</code></p>${options ? `<p class="note">options: ${esc(options)}</p>` : ''}` + render(d.stats, statsTable);
}

function sectionBody(id: (typeof SECTIONS)[number][0], p: ReportPage): string {
  switch (id) {
    case 'results': return render(p.results, resultsSection);
    case 'tradeoff': return render(p.tradeoff, (points) => '<div class="figures">' +
      `<figure>${inlineSvg(tradeoffSvg(points, { x: 'latencyMs', y: 'NDCG@10 (full ranking, test)', pareto: true }), 'tradeoff-latency')}</figure>` +
      `<figure>${inlineSvg(tradeoffSvg(points, { x: 'params', y: 'NDCG@10 (full ranking, test)', pareto: true }), 'tradeoff-params')}</figure></div>` +
      '<p class="note">The dashed line is the Pareto front: the best NDCG@10 any model reaches at no more than that cost. Latency: one sequence, last position, batch 1, median.</p>');
    case 'cell': return render(p.cells, cellSection);
    case 'alpha': return render(p.alpha, (views) => views.map((a, i) => `<h3>${esc(a.stage)}/</h3><figure>${inlineSvg(alphaHeatmapSvg(a.history), `alpha${i}`)}</figure>`).join(''));
    case 'curves': return render(p.curves, (cards) => `<div class="cards">${cards.map(curveCard).join('')}</div>`);
    case 'data': return render(p.data, dataSection);
  }
}

/** A section's body, or what kept it from being drawn (files of an unexpected shape): one bad file never costs the page. */
function drawn(id: (typeof SECTIONS)[number][0], p: ReportPage): string {
  try {
    return sectionBody(id, p);
  } catch (e) {
    return missing({ missing: `could not be drawn: ${(e as Error).message}` });
  }
}

/** The whole page. */
export function reportHtml(p: ReportPage): string {
  const csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>AdaRec run: ${esc(p.title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    `<header><h1>AdaRec run: ${esc(p.title)}</h1><div class="folder">${esc(p.folder)}</div>`,
    `<ul class="status">${p.status.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>`,
    `<nav>${SECTIONS.map(([id, h]) => `<a href="#${id}">${h}</a>`).join('')}</nav></header>`,
    '<main>',
    ...SECTIONS.map(([id, h]) => `<section id="${id}"><h2>${h}</h2>${drawn(id, p)}</section>`),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
