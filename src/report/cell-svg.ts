// cell.svg: the searched cell as a left-to-right graph. Input x, intermediate nodes 1..N, and out
// (the attention-weighted sum of the nodes -> LayerNorm -> ReLU, plus x), as METHOD.md's cell.
//
// Layout rule that keeps labels apart without a general graph layouter: every node sits on one
// horizontal line, one column apart. An edge spanning s columns is a quadratic Bezier whose apex
// height depends only on s: straight for s = 1, then alternately above (even s) and below (odd s),
// higher for longer spans. Labels sit at the apex, so labels of different spans are on different
// levels and labels of one span are a column apart, with a column wider than the widest label.
// The grey node -> out edges and the dashed residual stay below, unlabelled; the residual is
// sized to pass under every label below the line.
import { CATEGORICAL, HALO, el, esc, fmt, fmtProb, svgDocument, text, textWidth } from './svg.js';

export interface CellEdgePicture {
  /** 0 = the cell input x, i = intermediate node i (1-based). */
  from: number;
  /** 1..nodes. */
  to: number;
  op: string;
  /** softmax(alpha) of the chosen operator, shown as "0.62" when given. */
  prob?: number;
}

export interface CellPicture {
  /** N intermediate nodes (usually 3). */
  nodes: number;
  /** At most one edge per (from, to) pair: a derived genotype keeps one operator per edge. */
  edges: CellEdgePicture[];
  title?: string;
}

const R = 20;               // node radius
const LABEL = 11;           // edge label font size
const HEAD = 40;            // title band
const ARROW = 'cell-arrow'; // marker id prefix (ids are local to this standalone file)

/** Signed apex offset of an operator edge spanning `span` columns (negative = above the line). */
function opApex(span: number): number {
  if (span === 1) return 0;
  const h = 40 + 34 * (span - 1);
  return span % 2 === 0 ? -h : h;
}

/**
 * Apex depth (below) of the grey edge node -> out spanning `span` columns. At the first column
 * it passes (t = 1/span) a parabola of apex h is at 4h t (1 - t), which must clear a node circle:
 * 30 + 12 (span - 2) does for every span and keeps these edges shallower than labelled arcs.
 */
function outApex(span: number): number {
  return span === 1 ? 0 : 30 + 12 * (span - 2);
}

interface Curve { d: string; apexX: number; apexY: number }

/**
 * The quadratic from the circle around (x0, y) to the circle around (x1, y) with its apex `h`
 * below the line (negative: above). The control point is at twice the apex offset; the ends are
 * pulled in along the tangents so arrowheads touch the circles instead of hiding under them.
 */
function curve(x0: number, x1: number, y: number, h: number, r0: number, r1: number): Curve {
  const cx = (x0 + x1) / 2, cy = y + 2 * h;
  const toward = (px: number, r: number): [number, number] => {
    const dx = cx - px, dy = cy - y, n = Math.hypot(dx, dy);
    return [px + (dx / n) * r, y + (dy / n) * r];
  };
  const [sx, sy] = toward(x0, r0), [ex, ey] = toward(x1, r1);
  // the curve's midpoint (t = 1/2) of the trimmed curve, a little beyond h since the ends moved
  return { d: `M${fmt(sx)} ${fmt(sy)} Q${fmt(cx)} ${fmt(cy)} ${fmt(ex)} ${fmt(ey)}`, apexX: (sx + 2 * cx + ex) / 4, apexY: (sy + 2 * cy + ey) / 4 };
}

function validate(g: CellPicture): void {
  const N = g.nodes;
  if (!Number.isInteger(N) || N < 1) throw new Error(`cellSvg: nodes must be a positive integer, got ${N}`);
  const seen = new Set<string>();
  for (const e of g.edges) {
    if (!Number.isInteger(e.from) || !Number.isInteger(e.to) || e.from < 0 || e.to < 1 || e.to > N || e.from >= e.to) {
      throw new Error(`cellSvg: edge ${e.from}->${e.to} (${e.op}) is not a cell edge: need 0 <= from < to <= ${N}`);
    }
    if (e.prob !== undefined && !Number.isFinite(e.prob)) throw new Error(`cellSvg: edge ${e.from}->${e.to} has probability ${e.prob}`);
    const key = `${e.from}->${e.to}`;
    if (seen.has(key)) throw new Error(`cellSvg: edge ${key} is listed twice; one operator per edge`);
    seen.add(key);
  }
}

/**
 * The probability follows the name after a no-break space (a plain one at the start of the
 * <tspan> that styles it is collapsed) and a small dx (some renderers, librsvg, drop even that).
 */
const GAP = '\u00a0';

function edgeLabel(e: CellEdgePicture): string {
  return e.prob === undefined ? e.op : `${e.op}${GAP}${fmtProb(e.prob)}`;
}

/** The searched cell as a standalone SVG. */
export function cellSvg(g: CellPicture): string {
  validate(g);
  const N = g.nodes, OUT = N + 1;
  const title = g.title ?? 'Searched cell';
  const edges = [...g.edges].sort((a, b) => a.to - b.to || a.from - b.from);

  // Columns wide enough that same-span labels (a column apart) and span-1 labels (between two
  // circles) never touch.
  const labelW = Math.max(0, ...edges.map((e) => textWidth(edgeLabel(e), LABEL)));
  const dx = Math.max(130, labelW + 2 * R + 20);

  // Operator colours: by sorted name, so a given set of operators always gets the same colours.
  const named = [...new Set(edges.map((e) => e.op).filter((op) => op !== 'none'))].sort();
  const colourOf = new Map(named.map((op, i) => [op, i % CATEGORICAL.length]));

  // Vertical extents relative to the node line (positive = below).
  const LABEL_ABOVE = 12 + LABEL;                        // apex to the top of a label above it
  let above = LABEL + 8;                                 // span-1 labels
  let below = R;
  const belowLabels: { x0: number; x1: number; bottom: number }[] = [];
  for (const e of edges) {
    const h = opApex(e.to - e.from);
    if (h < 0) above = Math.max(above, -h + LABEL_ABOVE);
    if (h > 0) {
      const w = textWidth(edgeLabel(e), LABEL), mid = ((e.from + e.to) / 2) * dx;
      belowLabels.push({ x0: mid - w / 2, x1: mid + w / 2, bottom: h + 4 + LABEL + 2 });
      below = Math.max(below, h + 4 + LABEL + 2);
    }
  }
  // The residual x -> out goes under everything: under the deepest grey edge and, at every
  // below-label's horizontal extent, under that label (its depth there is 4h t(1 - t)).
  const span = OUT * dx;
  let residual = outApex(OUT - 1) + 24;
  for (const b of belowLabels) {
    const t = Math.min(b.x0 / span, 1 - b.x1 / span);
    if (t > 0) residual = Math.max(residual, (b.bottom + 8) / (4 * t * (1 - t)));
  }
  below = Math.max(below, residual + 18);

  const x0 = 40 + R;
  const cy = HEAD + above + 8;
  const xOf = (i: number): number => x0 + i * dx;
  const caption = [
    'out = x + ReLU(LayerNorm(attention-weighted sum of nodes 1..' + N + '))',
    "grey: nodes into the sum; dashed grey: residual from x; faint dashed: 'none' (carries nothing)",
  ];
  const width = Math.max(2 * x0 + OUT * dx, 32 + Math.max(...caption.map((c) => textWidth(c, 10))), 32 + textWidth(title, 15));
  const height = cy + below + 14 + caption.length * 14;

  const defs = [
    ...named.map((op) => arrowMarker(`${ARROW}-${colourOf.get(op)}`, CATEGORICAL[colourOf.get(op) ?? 0])),
    arrowMarker(`${ARROW}-grey`, '#9a9a9a'),
  ].filter((m, i, all) => all.indexOf(m) === i);

  const body: string[] = [text(16, 26, title, { 'font-size': 15, 'font-weight': 'bold' })];

  // Background: node -> out (grey), then the residual (dashed grey).
  body.push('<g class="out-edges" fill="none" stroke="#9a9a9a" stroke-width="1">');
  for (let i = 1; i <= N; i++) {
    const c = curve(xOf(i), xOf(OUT), cy, outApex(OUT - i), R, R);
    body.push(el('path', { class: 'out-edge', 'data-from': i, d: c.d, 'marker-end': `url(#${ARROW}-grey)` }));
  }
  const res = curve(xOf(0), xOf(OUT), cy, residual, R, R);
  body.push(el('path', { class: 'residual', d: res.d, 'stroke-dasharray': '6 4', 'marker-end': `url(#${ARROW}-grey)` }));
  body.push('</g>');
  body.push(text(res.apexX, res.apexY + 14, '+ x (residual)', { 'text-anchor': 'middle', 'font-size': 10, fill: '#777' }));

  // Operator edges: all paths first, then all labels, so no path is drawn over a label.
  const paths: string[] = [], labels: string[] = [];
  for (const e of edges) {
    const h = opApex(e.to - e.from);
    const c = curve(xOf(e.from), xOf(e.to), cy, h, R, R);
    const none = e.op === 'none';
    const colour = none ? '#9a9a9a' : CATEGORICAL[colourOf.get(e.op) ?? 0];
    const ids = { 'data-from': e.from, 'data-to': e.to, 'data-op': e.op };
    paths.push(el('path', {
      class: none ? 'edge none' : 'edge', ...ids, d: c.d, fill: 'none', stroke: colour,
      'stroke-width': none ? 1.2 : e.prob === undefined ? 2 : 1.2 + 2 * Math.min(1, Math.max(0, e.prob)),
      'stroke-dasharray': none ? '3 4' : undefined, 'stroke-opacity': none ? 0.6 : undefined,
      'marker-end': none ? undefined : `url(#${ARROW}-${colourOf.get(e.op)})`,
    }));
    const y = h === 0 ? cy - 7 : h < 0 ? c.apexY - 7 : c.apexY + 4 + LABEL;
    const probPart = e.prob === undefined ? '' : el('tspan', { dx: 3, fill: '#555', 'font-weight': 'normal' }, GAP + fmtProb(e.prob));
    labels.push(el('text', {
      class: 'edge-label', ...ids, x: c.apexX, y, 'text-anchor': 'middle', 'font-size': LABEL,
      fill: none ? '#888' : colour, 'font-style': none ? 'italic' : undefined, 'font-weight': none ? undefined : 'bold', ...HALO,
    }, esc(e.op) + probPart));
  }
  body.push(...paths);

  // Nodes over the edge ends.
  for (let i = 0; i <= OUT; i++) {
    const name = i === 0 ? 'x' : i === OUT ? 'out' : String(i);
    const special = i === 0 || i === OUT;
    body.push(el('g', { class: 'node', 'data-node': name }, [
      el('circle', { cx: xOf(i), cy, r: R, fill: special ? '#f0f0f0' : '#fff', stroke: '#333', 'stroke-width': 1.5 }),
      text(xOf(i), cy, name, { dy: '0.35em', 'text-anchor': 'middle', 'font-size': special && i === OUT ? 11 : 13, 'font-weight': 'bold', 'font-style': i === 0 ? 'italic' : undefined }),
    ].join('')));
  }
  body.push(...labels);
  caption.forEach((c, k) => body.push(text(16, cy + below + 14 + k * 14, c, { 'font-size': 10, fill: '#666' })));

  return svgDocument({ width, height, title, body, defs });
}

function arrowMarker(id: string, colour: string): string {
  return el('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, markerUnits: 'userSpaceOnUse', orient: 'auto' },
    el('path', { d: 'M0 0 L10 5 L0 10 z', fill: colour }));
}
