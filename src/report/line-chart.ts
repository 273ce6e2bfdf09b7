// A small line chart of values per epoch (the training curves of the HTML report: a stage's loss,
// its validation metric, one line per seed): one or more series, nice linear y ticks, integer
// epoch ticks, each series' best epoch ringed, and a native tooltip (<title>) on every point so
// exact values are a hover away.
import { CATEGORICAL, el, epochTicks, esc, fmt, formatCompact, niceLinear, svgDocument, text, textWidth } from './svg.js';

export interface LineSeries {
  name: string;
  /** [epoch, value] pairs in epoch order; non-finite values are left out. */
  points: readonly (readonly [number, number])[];
  /** An epoch to ring, e.g. the early-stopping best. */
  best?: number | null;
}

export interface LineChartOptions {
  title: string;
  /** The y axis' name, e.g. 'loss' or 'ndcg@10 (validation)'. */
  y: string;
  series: readonly LineSeries[];
  width?: number;
  height?: number;
}

/** Above this many points per series the per-point circles (and their tooltips) are left out. */
const MAX_DOTS = 80;

/** Values of a series that can be drawn. */
function finitePoints(s: LineSeries): [number, number][] {
  return s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => [x, y]);
}

/** A line chart of per-epoch values as a standalone SVG. */
export function lineChartSvg(o: LineChartOptions): string {
  const W = o.width ?? 320;
  const series = o.series.map((s) => ({ ...s, points: finitePoints(s) })).filter((s) => s.points.length > 0);
  const body: string[] = [text(12, 20, o.title, { 'font-size': 13, 'font-weight': 'bold' })];
  if (series.length === 0) {
    body.push(text(12, 48, 'no values recorded yet', { class: 'empty', fill: '#666' }));
    return svgDocument({ width: W, height: 64, title: o.title, body });
  }
  // Legend (series, then the best-epoch ring), in rows under the title as wide as the chart.
  const ringed = series.some((s) => s.points.some(([x]) => x === s.best));
  const entries = [...series.map((s, i) => ({ name: s.name, key: el('line', { x1: 0, y1: 0, x2: 14, y2: 0, stroke: CATEGORICAL[i % CATEGORICAL.length], 'stroke-width': 2.5 }) })),
    ...(ringed ? [{ name: 'best epoch', key: el('circle', { cx: 7, cy: 0, r: 5, fill: 'none', stroke: '#555', 'stroke-width': 1.5 }) }] : [])];
  const legendItems: string[] = [];
  let lx = 52, ly = 36;
  if (series.length > 1 || ringed) {
    for (const e of entries) {
      const w = 18 + textWidth(e.name, 10) + 12;
      if (lx > 52 && lx + w > W - 8) { lx = 52; ly += 14; }
      legendItems.push(el('g', { transform: `translate(${fmt(lx)} ${fmt(ly)})` }, e.key + text(18, 0, e.name, { dy: '0.35em', 'font-size': 10 })));
      lx += w;
    }
  }
  const H = (o.height ?? 200) + (ly - 36); // each extra legend row makes the chart taller, not the plot smaller
  const plot = { x0: 52, y0: legendItems.length > 0 ? ly + 14 : 34, x1: W - 14, y1: H - 38 };
  const xs = series.flatMap((s) => s.points.map((p) => p[0])), ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const xlo = Math.min(...xs), xhi = Math.max(...xs);
  const pad = (Math.max(...ys) - Math.min(...ys)) * 0.05;
  const yAxis = niceLinear(Math.min(...ys) - pad, Math.max(...ys) + pad, 4);
  const sx = (x: number): number => (xhi === xlo ? (plot.x0 + plot.x1) / 2 : plot.x0 + ((x - xlo) / (xhi - xlo)) * (plot.x1 - plot.x0));
  const sy = (y: number): number => plot.y1 - ((y - yAxis.lo) / (yAxis.hi - yAxis.lo)) * (plot.y1 - plot.y0);

  const axes: string[] = [];
  for (const t of yAxis.ticks) {
    axes.push(el('line', { x1: plot.x0, y1: sy(t), x2: plot.x1, y2: sy(t), stroke: '#eee' }));
    axes.push(text(plot.x0 - 6, sy(t), Math.abs(t) >= 1e4 ? formatCompact(t) : String(t), { class: 'tick y', dy: '0.35em', 'text-anchor': 'end', 'font-size': 10, fill: '#555' }));
  }
  // epoch ticks: integers from the first epoch shown to the last
  for (const t of epochTicks(xhi - xlo + 1, Math.max(2, Math.floor((plot.x1 - plot.x0) / 50))).map((k) => k + xlo - 1)) {
    axes.push(el('line', { x1: sx(t), y1: plot.y1, x2: sx(t), y2: plot.y1 + 3, stroke: '#999' }));
    axes.push(text(sx(t), plot.y1 + 14, String(t), { class: 'tick x', 'text-anchor': 'middle', 'font-size': 10, fill: '#555' }));
  }
  axes.push(el('path', { d: `M${fmt(plot.x0)} ${fmt(plot.y0)} V${fmt(plot.y1)} H${fmt(plot.x1)}`, stroke: '#999', fill: 'none' }));
  axes.push(text((plot.x0 + plot.x1) / 2, plot.y1 + 30, 'epoch', { 'text-anchor': 'middle', 'font-size': 10, fill: '#555' }));
  axes.push(text(0, 0, o.y, { transform: `translate(14 ${fmt((plot.y0 + plot.y1) / 2)}) rotate(-90)`, 'text-anchor': 'middle', 'font-size': 10, fill: '#555' }));
  body.push(el('g', { class: 'axes' }, axes.join('')));

  series.forEach((s, i) => {
    const colour = CATEGORICAL[i % CATEGORICAL.length];
    const parts = [el('polyline', { points: s.points.map(([x, y]) => `${fmt(sx(x))},${fmt(sy(y))}`).join(' '), fill: 'none', stroke: colour, 'stroke-width': 1.8 })];
    if (s.points.length <= MAX_DOTS) {
      for (const [x, y] of s.points) {
        parts.push(el('circle', { cx: sx(x), cy: sy(y), r: 2.5, fill: colour }, el('title', {}, esc(`${s.name}, epoch ${x}: ${Number(y.toPrecision(4))}`))));
      }
    }
    const best = s.points.find(([x]) => x === s.best);
    if (best) parts.push(el('circle', { class: 'best', 'data-epoch': best[0], cx: sx(best[0]), cy: sy(best[1]), r: 5.5, fill: 'none', stroke: colour, 'stroke-width': 1.5 },
      el('title', {}, esc(`${s.name}: best epoch ${best[0]}, ${Number(best[1].toPrecision(4))}`))));
    body.push(el('g', { class: 'series', 'data-name': s.name, 'data-points': s.points.length }, parts.join('')));
  });

  if (legendItems.length > 0) body.push(el('g', { class: 'legend' }, legendItems.join('')));
  return svgDocument({ width: W, height: H, title: o.title, body });
}
