// alpha.svg and tradeoff.svg: the two data charts of a run folder. alpha.svg answers "which
// operator won on each edge, and when did the search decide?"; tradeoff.svg answers "what does the
// student cost against the teacher and the baselines, for how much accuracy?".
import {
  HALO, blues, bluesStops, el, epochTicks, esc, fmt, fmtProb, formatCompact, logTicks, niceLinear, niceLogDomain, svgDocument, text, textWidth,
} from './svg.js';

// =============================================================================================
// alpha.svg

export interface AlphaHistory {
  /** Column names (operators). */
  ops: string[];
  /** Row labels, e.g. "x→1", "x→2", "1→2", ... */
  edges: string[];
  /** epochs[e][edge][op] = softmax(alpha) after epoch e + 1. */
  epochs: number[][][];
  /** Mean alpha entropy per epoch (nats), one per entry of `epochs`. */
  entropy?: number[];
}

const CELL_H = 12;          // one operator row in a panel
const PANEL_GAP_X = 28;     // room for the winner marker between panels
const PANEL_GAP_Y = 52;     // epoch ticks below a panel + the next panel's title
const MAX_GRID_W = 980;

function validateAlpha(h: AlphaHistory): void {
  const O = h.ops.length, K = h.edges.length;
  if (O === 0 || K === 0) throw new Error(`alphaHeatmapSvg: need at least one operator and one edge (got ${O} and ${K})`);
  h.epochs.forEach((ep, e) => {
    if (ep.length !== K) throw new Error(`alphaHeatmapSvg: epoch ${e + 1} has ${ep.length} edges, expected ${K}`);
    ep.forEach((row, k) => {
      if (row.length !== O) throw new Error(`alphaHeatmapSvg: epoch ${e + 1}, edge ${h.edges[k]} has ${row.length} probabilities, expected ${O}`);
      for (const p of row) if (!Number.isFinite(p)) throw new Error(`alphaHeatmapSvg: epoch ${e + 1}, edge ${h.edges[k]} has probability ${p}`);
    });
  });
  if (h.entropy !== undefined && h.entropy.length !== h.epochs.length) {
    throw new Error(`alphaHeatmapSvg: ${h.entropy.length} entropy values for ${h.epochs.length} epochs`);
  }
  for (const v of h.entropy ?? []) if (!Number.isFinite(v)) throw new Error(`alphaHeatmapSvg: entropy ${v}`);
}

function argmax(row: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/**
 * Small multiples of softmax(alpha): one panel per edge (x = epoch, y = operator, colour =
 * probability on a white -> dark blue scale from 0 to the largest probability seen), each titled
 * with the operator leading after the last epoch, which a marker also points at. Below, when
 * given, the mean entropy per epoch against ln(#ops), the entropy of a uniform choice.
 */
export function alphaHeatmapSvg(h: AlphaHistory): string {
  validateAlpha(h);
  const E = h.epochs.length, K = h.edges.length, O = h.ops.length;
  const title = `Architecture weights softmax(α) per edge over ${E} epoch${E === 1 ? '' : 's'}`;
  if (E === 0) {
    return svgDocument({ width: 520, height: 80, title, body: [
      text(16, 26, title, { 'font-size': 15, 'font-weight': 'bold' }), text(16, 56, 'no epochs recorded yet', { fill: '#666' }),
    ] });
  }
  let max = 0;
  for (const ep of h.epochs) for (const row of ep) for (const p of row) max = Math.max(max, p);
  const scaleMax = max > 0 ? max : 1;
  const last = h.epochs[E - 1];
  const panelTitles = h.edges.map((edge, k) => {
    const w = argmax(last[k]);
    return { edge, winner: `${h.ops[w]} ${fmtProb(last[k][w])}`, w };
  });

  // Geometry: op names left of each grid row, panels as wide as their epochs (or their title).
  const left = 16 + Math.max(...h.ops.map((o) => textWidth(o, 10))) + 8;
  const titleW = Math.max(...panelTitles.map((t) => textWidth(`${t.edge}  ${t.winner}`, 11)));
  const panelW = Math.max(E * Math.min(18, Math.max(4, Math.floor(320 / E))), titleW + 4, 90);
  const cw = panelW / E;
  const panelH = O * CELL_H;
  const cols = Math.max(1, Math.min(K, Math.floor((MAX_GRID_W - left) / (panelW + PANEL_GAP_X))));
  const rows = Math.ceil(K / cols);
  const top = 64;
  const gridW = left + cols * (panelW + PANEL_GAP_X);
  const gridBottom = top + rows * (panelH + PANEL_GAP_Y) - PANEL_GAP_Y + 16;

  const chartW = Math.max(300, cols * (panelW + PANEL_GAP_X) - PANEL_GAP_X);
  const legendW = 150;
  const width = Math.max(gridW + 8, left + chartW + 24, 16 + textWidth(title, 15) + 32 + legendW + 60);
  const body: string[] = [text(16, 26, title, { 'font-size': 15, 'font-weight': 'bold' })];

  // Colour legend (top right): the scale from 0 to the largest probability.
  const lx = width - legendW - 24;
  body.push(el('g', { class: 'legend' }, [
    text(lx, 18, 'softmax(α)', { 'font-size': 10, fill: '#444' }),
    el('rect', { x: lx, y: 24, width: legendW, height: 10, fill: 'url(#alpha-scale)', stroke: '#999', 'stroke-width': 0.5 }),
    text(lx, 46, '0', { 'font-size': 10, 'text-anchor': 'start' }),
    text(lx + legendW, 46, fmtProb(scaleMax), { 'font-size': 10, 'text-anchor': 'end' }),
  ].join('')));

  const xticks = epochTicks(E, Math.max(2, Math.floor(panelW / 50)));
  for (let k = 0; k < K; k++) {
    const px = left + (k % cols) * (panelW + PANEL_GAP_X), py = top + Math.floor(k / cols) * (panelH + PANEL_GAP_Y);
    const t = panelTitles[k];
    const parts: string[] = [
      el('text', { x: px, y: py - 6, 'font-size': 11 }, el('tspan', { 'font-weight': 'bold' }, esc(t.edge)) + el('tspan', { dx: 6, fill: '#444' }, esc('\u00a0' + t.winner))),
    ];
    if (k % cols === 0) {
      h.ops.forEach((op, o) => parts.push(text(px - 6, py + o * CELL_H + CELL_H / 2, op, { dy: '0.35em', 'text-anchor': 'end', 'font-size': 10 })));
      parts.push(text(px - 6, py + panelH + 13, 'epoch', { 'text-anchor': 'end', 'font-size': 9, fill: '#555', 'font-style': 'italic' }));
    }
    const cells: string[] = [];
    for (let e = 0; e < E; e++) {
      for (let o = 0; o < O; o++) {
        const p = h.epochs[e][k][o];
        cells.push(el('rect', { class: 'cell', 'data-epoch': e + 1, 'data-edge': k, 'data-op': o, 'data-p': p, x: px + e * cw, y: py + o * CELL_H, width: cw, height: CELL_H, fill: blues(p / scaleMax) }));
      }
    }
    parts.push(el('g', { 'shape-rendering': 'crispEdges' }, cells.join('')));
    parts.push(el('rect', { x: px, y: py, width: panelW, height: panelH, fill: 'none', stroke: '#999', 'stroke-width': 0.5 }));
    // winner marker: a small triangle right of the panel pointing at the leading row
    const wy = py + t.w * CELL_H + CELL_H / 2;
    parts.push(el('path', { class: 'winner', d: `M${fmt(px + panelW + 3)} ${fmt(wy)} l7 -4.5 v9 z`, fill: '#08306b' }));
    for (const ep of xticks) {
      const x = px + (ep - 0.5) * cw;
      parts.push(el('line', { x1: x, y1: py + panelH, x2: x, y2: py + panelH + 3, stroke: '#999' }));
      parts.push(text(x, py + panelH + 13, String(ep), { 'text-anchor': 'middle', 'font-size': 9, fill: '#555' }));
    }
    body.push(el('g', { class: 'panel', 'data-edge': t.edge }, parts.join('')));
  }

  let height = gridBottom + 8;
  if (h.entropy !== undefined) {
    const chart = entropyChart(h.entropy, O, left, gridBottom + 36, chartW);
    body.push(chart.svg);
    height = chart.bottom + 8;
  }
  const defs = [el('linearGradient', { id: 'alpha-scale', x1: 0, y1: 0, x2: 1, y2: 0 }, bluesStops().join(''))];
  return svgDocument({ width, height, title, body, defs });
}

/** Mean entropy per epoch as a line, with the uniform-choice entropy ln(#ops) dashed. */
function entropyChart(entropy: readonly number[], ops: number, x0: number, y0: number, w: number): { svg: string; bottom: number } {
  const E = entropy.length, H = 110;
  const uniform = Math.log(ops);
  const y = niceLinear(0, Math.max(uniform, ...entropy) * 1.05 || 1, 4);
  const px = (e: number): number => (E === 1 ? x0 + w / 2 : x0 + (e * w) / (E - 1));
  const py = (v: number): number => y0 + H - ((v - y.lo) / (y.hi - y.lo)) * H;
  const parts: string[] = [text(16, y0 - 10, 'mean α entropy per epoch (nats)', { 'font-size': 11, 'font-weight': 'bold' })];
  for (const t of y.ticks) {
    parts.push(el('line', { x1: x0, y1: py(t), x2: x0 + w, y2: py(t), stroke: '#eee' }));
    parts.push(text(x0 - 6, py(t), formatCompact(t), { dy: '0.35em', 'text-anchor': 'end', 'font-size': 9, fill: '#555' }));
  }
  for (const ep of epochTicks(E, Math.max(2, Math.floor(w / 60)))) {
    parts.push(text(px(ep - 1), y0 + H + 13, String(ep), { 'text-anchor': 'middle', 'font-size': 9, fill: '#555' }));
  }
  parts.push(el('line', { x1: x0, y1: y0 + H, x2: x0 + w, y2: y0 + H, stroke: '#999' }));
  parts.push(el('line', { class: 'uniform', x1: x0, y1: py(uniform), x2: x0 + w, y2: py(uniform), stroke: '#d55e00', 'stroke-dasharray': '5 4' }));
  parts.push(el('polyline', { class: 'entropy', points: entropy.map((v, e) => `${fmt(px(e))},${fmt(py(v))}`).join(' '), fill: 'none', stroke: '#08519c', 'stroke-width': 1.8 }));
  if (E <= 60) for (let e = 0; e < E; e++) parts.push(el('circle', { cx: px(e), cy: py(entropy[e]), r: 2.2, fill: '#08519c' }));
  // the label last, so the entropy line never covers it
  parts.push(text(x0 + w, py(uniform) - 4, `uniform (ln ${ops} = ${uniform.toFixed(2)})`, { 'text-anchor': 'end', 'font-size': 10, fill: '#d55e00', ...HALO }));
  parts.push(text(x0 + w / 2, y0 + H + 28, 'epoch', { 'text-anchor': 'middle', 'font-size': 10, fill: '#555' }));
  return { svg: el('g', { class: 'entropy-chart' }, parts.join('')), bottom: y0 + H + 34 };
}

// =============================================================================================
// tradeoff.svg

export type CostAxis = 'macs' | 'params' | 'latencyMs';

export interface TradeoffPoint {
  name: string;
  kind: 'teacher' | 'student' | 'baseline';
  params: number;
  macs: number;
  latencyMs?: number;
  metric: number;
}

export interface TradeoffOptions {
  /** The cost on the (log) x axis; 'latencyMs' falls back to 'macs' unless every point has it. */
  x?: CostAxis;
  /** The metric's name for the y axis (default NDCG@10). */
  y?: string;
  title?: string;
  /** Draw the Pareto front (two or more points): the best metric reachable at each cost, a dashed step line, its points marked. */
  pareto?: boolean;
}

/**
 * The points no other point dominates (another has a cost no higher and a metric no lower, one of
 * them strictly), in ascending cost: the models worth their cost.
 */
export function paretoFront<P>(points: readonly P[], cost: (p: P) => number, metric: (p: P) => number): P[] {
  const front = points.filter((p) => !points.some((q) => q !== p && cost(q) <= cost(p) && metric(q) >= metric(p) && (cost(q) < cost(p) || metric(q) > metric(p))));
  // equal points do not dominate each other: keep the first of each
  const unique = front.filter((p, i) => front.findIndex((q) => cost(q) === cost(p) && metric(q) === metric(p)) === i);
  return unique.sort((a, b) => cost(a) - cost(b));
}

const COST_NAME: Readonly<Record<CostAxis, string>> = { macs: 'MACs', params: 'parameters', latencyMs: 'latency (ms)' };

type Kind = TradeoffPoint['kind'];
const KINDS: readonly Kind[] = ['teacher', 'student', 'baseline'];
const KIND_COLOUR: Readonly<Record<Kind, string>> = { teacher: '#d55e00', student: '#0072b2', baseline: '#666666' };

/** The marker of a kind centred on (0, 0): teacher square, student circle, baseline triangle. */
function marker(kind: Kind): string {
  const c = KIND_COLOUR[kind];
  if (kind === 'teacher') return el('rect', { x: -5.5, y: -5.5, width: 11, height: 11, fill: c, stroke: '#fff', 'stroke-width': 1 });
  if (kind === 'student') return el('circle', { r: 6, fill: c, stroke: '#fff', 'stroke-width': 1 });
  return el('path', { d: 'M0 -7 L6.5 5 L-6.5 5 z', fill: c, stroke: '#fff', 'stroke-width': 1 });
}

interface Box { x0: number; y0: number; x1: number; y1: number }
const overlaps = (a: Box, b: Box): boolean => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

/**
 * Accuracy against cost: x = the cost on a log scale (1, 2, 5 x 10^k ticks; points of cost 0,
 * such as a popularity baseline's MACs, sit on a separate "0" tick left of an axis break), y = the
 * metric on nice linear ticks. Kinds differ in colour and marker shape; every point is labelled
 * with its name, placed greedily where it overlaps no earlier label or marker. Points without a
 * finite metric or cost are left out and named in a footnote.
 */
export function tradeoffSvg(all: TradeoffPoint[], o: TradeoffOptions = {}): string {
  for (const p of all) if (!KINDS.includes(p.kind)) throw new Error(`tradeoffSvg: point '${p.name}' has unknown kind '${p.kind}'`);
  // A model without a finite metric or cost (not evaluated on this protocol, latency not timed)
  // is left out and named in a footnote: a picture must not fail a report at the end of a run.
  const measured = all.filter((p) => Number.isFinite(p.metric));
  const requested = o.x ?? 'macs';
  const fallback = requested === 'latencyMs' && measured.some((p) => p.latencyMs === undefined || !Number.isFinite(p.latencyMs));
  const axis: CostAxis = fallback ? 'macs' : requested;
  const cost = (p: TradeoffPoint): number => (axis === 'latencyMs' ? (p.latencyMs as number) : p[axis]);
  const points = measured.filter((p) => Number.isFinite(cost(p)) && cost(p) >= 0);
  const omitted = all.filter((p) => !points.includes(p)).map((p) => p.name);
  const yName = o.y ?? 'NDCG@10';
  const xLabel = `${COST_NAME[axis]} (log scale)` + (fallback ? ' — latency not measured for every model, showing MACs' : '');
  const title = o.title ?? `${yName} vs ${COST_NAME[axis]}`;

  const W = 760, H = 480;
  const plot = { x0: 76, y0: 48, x1: W - 170, y1: H - 64 };
  const body: string[] = [text(16, 26, title, { 'font-size': 15, 'font-weight': 'bold' })];
  if (omitted.length > 0) {
    body.push(text(16, H - 8, `not shown (no finite ${yName} or ${COST_NAME[axis]}): ${omitted.join(', ')}`, { class: 'omitted', 'font-size': 10, fill: '#666' }));
  }
  if (points.length === 0) {
    body.push(text(plot.x0, plot.y0 + 40, 'no models to compare yet', { fill: '#666' }));
    return svgDocument({ width: W, height: H, title, body });
  }

  // x scale: log over the positive costs, snapped to 1-2-5 values and inset a few pixels so no
  // marker sits on the frame; zero costs get their own lane left of a break, since log(0) has no
  // place on the axis.
  const positive = points.map(cost).filter((c) => c > 0);
  const hasZero = positive.length < points.length;
  const dom = positive.length > 0 ? niceLogDomain(Math.min(...positive), Math.max(...positive)) : { lo: 1, hi: 10 };
  const zeroX = plot.x0 + 16, logX0 = plot.x0 + (hasZero ? 56 : 14), logX1 = plot.x1 - 14;
  const sx = (c: number): number => (c > 0 ? logX0 + ((Math.log10(c) - Math.log10(dom.lo)) / (Math.log10(dom.hi) - Math.log10(dom.lo))) * (logX1 - logX0) : zeroX);
  const metrics = points.map((p) => p.metric);
  const mlo = Math.min(...metrics), mhi = Math.max(...metrics);
  const pad = (mhi - mlo) * 0.08;
  const ys = niceLinear(mlo - pad, mhi + pad, 5);
  const sy = (v: number): number => plot.y1 - ((v - ys.lo) / (ys.hi - ys.lo)) * (plot.y1 - plot.y0);

  // Grid, ticks, axes.
  const grid: string[] = [];
  for (const t of ys.ticks) {
    grid.push(el('line', { x1: plot.x0, y1: sy(t), x2: plot.x1, y2: sy(t), stroke: '#eee' }));
    grid.push(el('g', { class: 'tick y', 'data-value': String(t) }, text(plot.x0 - 8, sy(t), String(t), { dy: '0.35em', 'text-anchor': 'end', 'font-size': 10, fill: '#444' })));
  }
  for (const t of logTicks(dom.lo, dom.hi)) {
    grid.push(el('line', { x1: sx(t), y1: plot.y0, x2: sx(t), y2: plot.y1, stroke: '#eee' }));
    grid.push(el('g', { class: 'tick x', 'data-value': String(t) }, text(sx(t), plot.y1 + 16, formatCompact(t), { 'text-anchor': 'middle', 'font-size': 10, fill: '#444' })));
  }
  if (hasZero) {
    grid.push(el('g', { class: 'tick x', 'data-value': '0' }, text(zeroX, plot.y1 + 16, '0', { 'text-anchor': 'middle', 'font-size': 10, fill: '#444' })));
    // axis break: two short slashes between the zero lane and the log axis
    const bx = (zeroX + logX0) / 2 - 4;
    grid.push(el('path', { d: `M${fmt(bx - 5)} ${fmt(plot.y1 + 5)} l4 -10 M${fmt(bx + 1)} ${fmt(plot.y1 + 5)} l4 -10`, stroke: '#666', fill: 'none' }));
  }
  grid.push(el('path', { d: `M${fmt(plot.x0)} ${fmt(plot.y0)} V${fmt(plot.y1)} H${fmt(plot.x1)}`, stroke: '#666', fill: 'none' }));
  body.push(el('g', { class: 'axes' }, grid.join('')));
  body.push(text((plot.x0 + plot.x1) / 2, plot.y1 + 40, xLabel, { class: 'x-label', 'text-anchor': 'middle', 'font-size': 11 }));
  body.push(text(0, 0, yName, { class: 'y-label', transform: `translate(${fmt(22)} ${fmt((plot.y0 + plot.y1) / 2)}) rotate(-90)`, 'text-anchor': 'middle', 'font-size': 11 }));

  // The Pareto front under the points: from each front point right to the next one's cost, then up.
  const front = o.pareto && points.length > 1 ? paretoFront(points, cost, (p) => p.metric) : [];
  if (front.length > 0) {
    let d = `M${fmt(sx(cost(front[0])))} ${fmt(sy(front[0].metric))}`;
    for (const p of front.slice(1)) d += ` H${fmt(sx(cost(p)))} V${fmt(sy(p.metric))}`;
    d += ` H${fmt(plot.x1)}`;
    body.push(el('path', { class: 'pareto', d, fill: 'none', stroke: '#0072b2', 'stroke-opacity': 0.5, 'stroke-width': 1.5, 'stroke-dasharray': '6 4' }));
  }

  // Points (deterministic order: by cost, then metric, then name), then their labels.
  const order = points.map((p, i) => ({ p, i, x: sx(cost(p)), y: sy(p.metric) }))
    .sort((a, b) => a.x - b.x || b.y - a.y || (a.p.name < b.p.name ? -1 : a.p.name > b.p.name ? 1 : 0) || a.i - b.i);
  const taken: Box[] = order.map((q) => ({ x0: q.x - 8, y0: q.y - 8, x1: q.x + 8, y1: q.y + 8 }));
  const marks: string[] = [], labels: string[] = [];
  for (const q of order) {
    const onFront = front.includes(q.p);
    marks.push(el('g', { class: `point ${q.p.kind}`, 'data-name': q.p.name, 'data-kind': q.p.kind, 'data-pareto': onFront ? '1' : undefined, transform: `translate(${fmt(q.x)} ${fmt(q.y)})` },
      marker(q.p.kind) + el('title', {}, esc(`${q.p.name}: ${yName} ${Number(q.p.metric.toPrecision(4))}, ${COST_NAME[axis]} ${Number(cost(q.p).toPrecision(4))}${onFront ? ' (Pareto front)' : ''}`))));
    const lw = textWidth(q.p.name, 11), lh = 12;
    // candidate anchors: right, left, above, below, then diagonals; first one free and inside wins
    const candidates: { dx: number; dy: number; anchor: 'start' | 'end' | 'middle' }[] = [
      { dx: 10, dy: 4, anchor: 'start' }, { dx: -10, dy: 4, anchor: 'end' }, { dx: 0, dy: -12, anchor: 'middle' },
      { dx: 0, dy: 20, anchor: 'middle' }, { dx: 9, dy: -10, anchor: 'start' }, { dx: 9, dy: 18, anchor: 'start' },
      { dx: -9, dy: -10, anchor: 'end' }, { dx: -9, dy: 18, anchor: 'end' },
    ];
    const boxOf = (c: (typeof candidates)[number]): Box => {
      const x = q.x + c.dx, y = q.y + c.dy;
      const bx0 = c.anchor === 'start' ? x : c.anchor === 'end' ? x - lw : x - lw / 2;
      return { x0: bx0, y0: y - lh + 2, x1: bx0 + lw, y1: y + 3 };
    };
    const inside = (b: Box): boolean => b.x0 >= plot.x0 + 2 && b.x1 <= plot.x1 + 8 && b.y0 >= plot.y0 - 20 && b.y1 <= plot.y1 - 2;
    const pick = candidates.find((c) => { const b = boxOf(c); return inside(b) && !taken.some((t) => overlaps(t, b)); })
      ?? candidates.find((c) => inside(boxOf(c))) ?? candidates[0];
    taken.push(boxOf(pick));
    labels.push(text(q.x + pick.dx, q.y + pick.dy, q.p.name, { class: 'point-label', 'data-name': q.p.name, 'text-anchor': pick.anchor, 'font-size': 11, fill: '#222', ...HALO }));
  }
  body.push(...marks, ...labels);

  // Legend: the kinds present, in a fixed order.
  const present = KINDS.filter((k) => points.some((p) => p.kind === k));
  const lx = plot.x1 + 28;
  const rows = present.length + (front.length > 0 ? 1 : 0);
  body.push(el('g', { class: 'legend' }, [
    el('rect', { x: lx - 12, y: plot.y0 - 8, width: 120, height: 16 + rows * 22, fill: '#fff', stroke: '#ccc' }),
    ...present.map((k, i) => el('g', { transform: `translate(${fmt(lx)} ${fmt(plot.y0 + 8 + i * 22)})` }, marker(k) + text(14, 0, k, { dy: '0.35em', 'font-size': 11 }))),
    ...(front.length > 0 ? [el('g', { transform: `translate(${fmt(lx)} ${fmt(plot.y0 + 8 + present.length * 22)})` },
      el('line', { x1: -7, y1: 0, x2: 7, y2: 0, stroke: '#0072b2', 'stroke-opacity': 0.5, 'stroke-width': 1.5, 'stroke-dasharray': '4 2' }) + text(14, 0, 'Pareto front', { dy: '0.35em', 'font-size': 11 }))] : []),
  ].join('')));

  return svgDocument({ width: W, height: H, title, body });
}
