// Report pictures (cell.svg, alpha.svg, tradeoff.svg): well-formed standalone SVG, deterministic,
// and parse-level checks that each picture shows what it claims (edges and their labels, darker
// cells for larger probabilities, points placed by cost and metric, 1-2-5 log ticks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alphaHeatmapSvg, cellSvg, tradeoffSvg, type AlphaHistory, type CellPicture, type TradeoffPoint } from '../src/report/index.js';
import { paretoFront } from '../src/report/charts.js';
import { inlineSvg } from '../src/report/html.js';
import { lineChartSvg } from '../src/report/line-chart.js';
import { blues, logTicks, niceLinear, niceLogDomain } from '../src/report/svg.js';

// ---------------------------------------------------------------------------------------------
// A tiny XML checker: enough to catch unbalanced tags, unquoted attributes, raw '<' or bare '&'.

interface Tag { name: string; attrs: Record<string, string>; text: string }

/** Asserts `svg` is one well-formed XML document rooted at <svg>; returns every element in order. */
function parseSvg(svg: string): Tag[] {
  assert.ok(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'), 'XML declaration first');
  const body = svg.slice(svg.indexOf('?>') + 2);
  const stack: Tag[] = [], all: Tag[] = [];
  let roots = 0, pos = 0;
  const checkChars = (s: string): void => {
    assert.ok(!s.includes('>'), `raw '>' in: ${s}`);
    const bad = /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i.exec(s);
    assert.equal(bad, null, `bare '&' in: ${s}`);
  };
  const checkText = (s: string): void => {
    checkChars(s);
    if (stack.length > 0) for (const t of stack) t.text += s; // textContent: all ancestors
    else assert.equal(s.trim(), '', `text outside the root: ${s}`);
  };
  for (const m of body.matchAll(/<[^<>]*>/g)) {
    checkText(body.slice(pos, m.index));
    pos = m.index + m[0].length;
    const tag = m[0];
    const close = /^<\/([\w:-]+)\s*>$/.exec(tag);
    if (close) {
      const open = stack.pop();
      assert.ok(open, `closing </${close[1]}> without an open tag`);
      assert.equal(close[1], open.name, `</${close[1]}> closes <${open.name}>`);
      continue;
    }
    const open = /^<([\w:-]+)((?:\s+[\w:-]+="[^"<>]*")*)\s*(\/?)>$/.exec(tag);
    assert.ok(open, `malformed tag (unquoted attribute?): ${tag}`);
    const attrs: Record<string, string> = {};
    for (const a of open[2].matchAll(/([\w:-]+)="([^"]*)"/g)) {
      assert.ok(!(a[1] in attrs), `attribute ${a[1]} twice in ${tag}`);
      checkChars(a[2]);
      attrs[a[1]] = a[2];
    }
    const el: Tag = { name: open[1], attrs, text: '' };
    all.push(el);
    if (stack.length === 0) roots++;
    if (open[3] !== '/') stack.push(el);
  }
  checkText(body.slice(pos));
  assert.equal(stack.length, 0, `unclosed: ${stack.map((t) => t.name).join(', ')}`);
  assert.equal(roots, 1, 'one root element');
  const root = all[0];
  assert.equal(root.name, 'svg');
  assert.equal(root.attrs.xmlns, 'http://www.w3.org/2000/svg');
  assert.match(root.attrs.width, /^\d+(\.\d+)?$/);
  assert.equal(root.attrs.viewBox, `0 0 ${root.attrs.width} ${root.attrs.height}`);
  assert.equal(all[1].name, 'title', '<title> is the first child');
  // every number in geometry attributes is written with at most 2 decimals (stable output);
  // data-* attributes carry values (a tick of 0.135), not coordinates
  for (const t of all) for (const [k, v] of Object.entries(t.attrs)) {
    if (k.startsWith('data-')) continue;
    for (const n of v.matchAll(/-?\d+\.(\d+)/g)) assert.ok(n[1].length <= 2, `unrounded number ${n[0]} in ${t.name}`);
  }
  return all;
}

const unescape = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
const byClass = (tags: Tag[], cls: string): Tag[] => tags.filter((t) => (t.attrs.class ?? '').split(' ').includes(cls));

/** Relative luminance of "#rrggbb" (sRGB, WCAG formula). */
function luminance(hex: string): number {
  const lin = (c: number): number => { const s = c / 255; return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
  const [r, g, b] = [1, 3, 5].map((i) => lin(parseInt(hex.slice(i, i + 2), 16)));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

// ---------------------------------------------------------------------------------------------
// Example inputs

const CELL: CellPicture = {
  nodes: 3,
  title: 'Searched cell (ML-1M)',
  edges: [
    { from: 0, to: 1, op: 'causal_conv_3', prob: 0.62 },
    { from: 0, to: 2, op: 'skip', prob: 0.41 },
    { from: 1, to: 2, op: 'causal_conv_5_d2', prob: 0.55 },
    { from: 0, to: 3, op: 'none', prob: 0.3 },
    { from: 1, to: 3, op: 'causal_max_pool_3', prob: 0.37 },
    { from: 2, to: 3, op: 'a<b&c', prob: 0.9 },
  ],
};

const OPS = ['causal_conv_3', 'causal_conv_5', 'skip', 'none'];
const EDGES = ['x→1', 'x→2', '1→2'];

/** Search history where on edge k operator k gains weight over the epochs (others share the rest). */
function history(epochs: number): AlphaHistory {
  const ep: number[][][] = [];
  for (let e = 0; e < epochs; e++) {
    ep.push(EDGES.map((_, k) => {
      const win = 0.25 + (0.65 * (e + 1)) / epochs; // 0.9 at the last epoch
      return OPS.map((__, o) => (o === k ? win : (1 - win) / (OPS.length - 1)));
    }));
  }
  const entropy = ep.map((rows) => rows.reduce((s, r) => s - r.reduce((h, p) => h + p * Math.log(p), 0), 0) / rows.length);
  return { ops: OPS, edges: EDGES, epochs: ep, entropy };
}

const POINTS: TradeoffPoint[] = [
  { name: 'SASRec (teacher)', kind: 'teacher', params: 2_400_000, macs: 48_000_000, latencyMs: 3.1, metric: 0.142 },
  { name: 'NextItNet (teacher)', kind: 'teacher', params: 3_100_000, macs: 95_000_000, latencyMs: 4.4, metric: 0.151 },
  { name: 'AdaRec student', kind: 'student', params: 310_000, macs: 2_100_000, latencyMs: 0.4, metric: 0.133 },
  { name: 'random genotype', kind: 'student', params: 300_000, macs: 2_500_000, metric: 0.118 },
  { name: 'most popular', kind: 'baseline', params: 0, macs: 0, metric: 0.041 },
  { name: 'transitions', kind: 'baseline', params: 3_700, macs: 3_700, metric: 0.087 },
];

// ---------------------------------------------------------------------------------------------

test('helpers: escaping survives, colour darkens, nice linear and 1-2-5 log ticks', () => {
  const tags = parseSvg(cellSvg({ nodes: 1, edges: [{ from: 0, to: 1, op: `<&>"'` }], title: 'a & b <c>' }));
  assert.equal(unescape(tags[1].text), 'a & b <c>');
  for (let t = 0; t < 1; t += 0.05) assert.ok(luminance(blues(t + 0.05)) < luminance(blues(t)), `blues darkens at ${t}`);
  assert.equal(blues(0), '#ffffff');

  assert.deepEqual(niceLinear(0.041, 0.151, 5), { lo: 0.04, hi: 0.16, ticks: [0.04, 0.06, 0.08, 0.1, 0.12, 0.14, 0.16] });
  assert.deepEqual(niceLinear(0, 2.08, 4).ticks, [0, 0.5, 1, 1.5, 2, 2.5]);
  assert.deepEqual(niceLinear(3, 3).ticks.length > 1, true);

  assert.deepEqual(logTicks(1000, 100000), [1000, 2000, 5000, 10000, 20000, 50000, 100000]);
  assert.deepEqual(logTicks(0.003, 0.06), [0.005, 0.01, 0.02, 0.05]);
  assert.deepEqual(niceLogDomain(3700, 95e4), { lo: 2000, hi: 1e6 });
  assert.deepEqual(niceLogDomain(1000, 1000), { lo: 500, hi: 2000 });
  // wide ranges keep only powers of ten (still 1 x 10^k) and end on them, about ten at most
  assert.deepEqual(logTicks(1, 1e9), [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9]);
  assert.deepEqual(logTicks(1, 1e20), [1, 1e3, 1e6, 1e9, 1e12, 1e15, 1e18]);
  assert.deepEqual(niceLogDomain(3700, 9.5e7), { lo: 1000, hi: 1e8 });
});

test('cellSvg: one labelled path per edge, escaped labels, none dashed, nodes x 1..N out', () => {
  const svg = cellSvg(CELL);
  const tags = parseSvg(svg);
  assert.equal(unescape(tags[1].text), 'Searched cell (ML-1M)');

  const paths = byClass(tags, 'edge');
  assert.equal(paths.length, CELL.edges.length, 'one path per edge');
  const labels = byClass(tags, 'edge-label');
  assert.equal(labels.length, CELL.edges.length, 'one label per edge');
  for (const e of CELL.edges) {
    const p = paths.filter((t) => t.attrs['data-from'] === String(e.from) && t.attrs['data-to'] === String(e.to));
    assert.equal(p.length, 1, `path ${e.from}->${e.to}`);
    assert.equal(unescape(p[0].attrs['data-op']), e.op);
    assert.match(p[0].attrs.d, /^M-?[\d.]+ -?[\d.]+ Q-?[\d.]+ -?[\d.]+ -?[\d.]+ -?[\d.]+$/, 'a quadratic Bezier');
    const l = labels.find((t) => t.attrs['data-from'] === String(e.from) && t.attrs['data-to'] === String(e.to));
    assert.ok(l, `label ${e.from}->${e.to}`);
    // the label text is the op name plus its probability (the tspan's text is collected with it)
    assert.ok(unescape(l.text).startsWith(e.op), `label starts with ${e.op}: ${l.text}`);
    assert.ok(l.text.includes(e.prob!.toFixed(2)), `label shows ${e.prob!.toFixed(2)}`);
    // none: faint dashed, no arrow; the others: solid with an arrow
    if (e.op === 'none') {
      assert.ok(p[0].attrs['stroke-dasharray'], 'none edge dashed');
      assert.ok(Number(p[0].attrs['stroke-opacity']) < 1, 'none edge faint');
      assert.equal(p[0].attrs['marker-end'], undefined);
    } else {
      assert.equal(p[0].attrs['stroke-dasharray'], undefined, `${e.op} edge solid`);
      assert.match(p[0].attrs['marker-end'], /^url\(#cell-arrow-\d+\)$/);
    }
  }
  assert.ok(svg.includes('a&lt;b&amp;c'), "'<' and '&' escaped in the label");
  assert.ok(!svg.includes('a<b'), 'no raw label');

  // nodes x, 1..3, out in left-to-right order; grey edges from each node to out; dashed residual
  const nodes = byClass(tags, 'node').map((t) => t.attrs['data-node']);
  assert.deepEqual(nodes, ['x', '1', '2', '3', 'out']);
  const circles = tags.filter((t) => t.name === 'circle').map((t) => Number(t.attrs.cx));
  assert.deepEqual(circles, [...circles].sort((a, b) => a - b));
  assert.equal(byClass(tags, 'out-edge').length, 3);
  const residual = byClass(tags, 'residual');
  assert.equal(residual.length, 1);
  assert.ok(residual[0].attrs['stroke-dasharray']);

  // edges skipping nodes arc: span 2 above the node line, span 3 below, neighbours straight
  const nodeY = Number(tags.find((t) => t.name === 'circle')!.attrs.cy);
  const controlY = (from: number, to: number): number => {
    const d = paths.find((t) => t.attrs['data-from'] === String(from) && t.attrs['data-to'] === String(to))!.attrs.d;
    return Number(/Q-?[\d.]+ (-?[\d.]+)/.exec(d)![1]);
  };
  assert.equal(controlY(0, 1), nodeY);
  assert.ok(controlY(0, 2) < nodeY && controlY(1, 3) < nodeY, 'span 2 above');
  assert.ok(controlY(0, 3) > nodeY, 'span 3 below');

  // labels do not overlap (estimated 0.6 em per character, 11 px high)
  const boxes = labels.map((l) => {
    const w = [...unescape(l.text)].length * 11 * 0.6, x = Number(l.attrs.x), y = Number(l.attrs.y);
    return { x0: x - w / 2, x1: x + w / 2, y0: y - 11, y1: y };
  });
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    assert.ok(!(a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1), `labels ${i} and ${j} overlap`);
  }

  // deterministic; bad edges are refused
  assert.equal(cellSvg(CELL), svg);
  assert.throws(() => cellSvg({ nodes: 2, edges: [{ from: 2, to: 2, op: 'skip' }] }), /not a cell edge/);
  assert.throws(() => cellSvg({ nodes: 2, edges: [{ from: 0, to: 1, op: 'skip' }, { from: 0, to: 1, op: 'none' }] }), /twice/);
});

test('alphaHeatmapSvg: epochs x edges x ops cells, darker for larger probability, entropy vs uniform', () => {
  const h = history(5);
  const svg = alphaHeatmapSvg(h);
  const tags = parseSvg(svg);
  const cells = byClass(tags, 'cell');
  assert.equal(cells.length, 5 * EDGES.length * OPS.length);
  assert.equal(byClass(tags, 'panel').length, EDGES.length, 'one panel per edge');

  const cell = (epoch: number, edge: number, op: number): Tag => {
    const c = cells.filter((t) => t.attrs['data-epoch'] === String(epoch) && t.attrs['data-edge'] === String(edge) && t.attrs['data-op'] === String(op));
    assert.equal(c.length, 1);
    return c[0];
  };
  // the last epoch's winner (0.9) against a loser (0.1/3 ~ 0.03) and against the first epoch (0.38)
  const hi = cell(5, 1, 1), lo = cell(5, 1, 0), early = cell(1, 1, 1);
  assert.equal(hi.attrs['data-p'], '0.9');
  assert.ok(luminance(hi.attrs.fill) < luminance(early.attrs.fill), 'darker as the weight grows');
  assert.ok(luminance(early.attrs.fill) < luminance(lo.attrs.fill), 'loser lightest');
  assert.equal(hi.attrs.fill, blues(1), 'the largest probability gets the darkest colour');
  // epochs run left to right, operators top to bottom
  assert.ok(Number(cell(2, 0, 0).attrs.x) > Number(cell(1, 0, 0).attrs.x));
  assert.ok(Number(cell(1, 0, 1).attrs.y) > Number(cell(1, 0, 0).attrs.y));
  // a direct 0.9 vs 0.1 comparison on a two-operator history
  const two = parseSvg(alphaHeatmapSvg({ ops: ['a', 'b'], edges: ['x→1'], epochs: [[[0.9, 0.1]]] }));
  const [c9, c1] = ['0.9', '0.1'].map((p) => byClass(two, 'cell').find((t) => t.attrs['data-p'] === p)!);
  assert.ok(luminance(c9.attrs.fill) < luminance(c1.attrs.fill) - 0.3, `0.9 (${c9.attrs.fill}) much darker than 0.1 (${c1.attrs.fill})`);

  // panel titles name the winning operator; the legend shows 0 and the max
  const titles = byClass(tags, 'panel').map((p) => p.text);
  for (let k = 0; k < EDGES.length; k++) assert.ok(unescape(titles[k]).includes(`${OPS[k]} 0.90`), `edge ${k} won by ${OPS[k]}`);
  const legend = byClass(tags, 'legend')[0];
  assert.ok(legend.text.includes('0') && legend.text.includes('0.90'));

  // entropy line with one vertex per epoch, falling; the uniform line at ln(#ops)
  const line = byClass(tags, 'entropy')[0];
  const ys = line.attrs.points.split(' ').map((p) => Number(p.split(',')[1]));
  assert.equal(ys.length, 5);
  for (let i = 1; i < ys.length; i++) assert.ok(ys[i] > ys[i - 1], 'entropy falls (y grows downwards)');
  const uniform = byClass(tags, 'uniform')[0];
  assert.ok(uniform.attrs['stroke-dasharray']);
  assert.ok(Number(uniform.attrs.y1) < ys[0], 'uniform above the first epoch entropy');
  assert.match(svg, /uniform \(ln 4 = 1\.39\)/);

  // without entropy: no chart; bad shapes refused; deterministic
  const noEnt = alphaHeatmapSvg({ ...h, entropy: undefined });
  assert.ok(!noEnt.includes('uniform'));
  parseSvg(noEnt);
  assert.throws(() => alphaHeatmapSvg({ ...h, entropy: [1] }), /entropy values/);
  assert.throws(() => alphaHeatmapSvg({ ...h, epochs: [[[0.5, 0.5]]] }), /edges, expected 3/);
  assert.equal(alphaHeatmapSvg(h), svg);
  parseSvg(alphaHeatmapSvg({ ...h, epochs: [], entropy: [] }));
  parseSvg(alphaHeatmapSvg(history(120)));
});

test('tradeoffSvg: log cost to the right, metric up, kinds by colour and shape, 1-2-5 ticks', () => {
  const svg = tradeoffSvg(POINTS);
  const tags = parseSvg(svg);
  assert.equal(unescape(tags[1].text), 'NDCG@10 vs MACs');
  const pos = new Map(byClass(tags, 'point').map((t) => {
    const m = /^translate\(([\d.]+) ([\d.]+)\)$/.exec(t.attrs.transform);
    assert.ok(m, t.attrs.transform);
    return [unescape(t.attrs['data-name']), { x: Number(m[1]), y: Number(m[2]), kind: t.attrs['data-kind'], shape: tags[tags.indexOf(t) + 1].name }];
  }));
  assert.equal(pos.size, POINTS.length);
  for (const a of POINTS) for (const b of POINTS) {
    const pa = pos.get(a.name)!, pb = pos.get(b.name)!;
    if (a.macs > b.macs) assert.ok(pa.x > pb.x, `${a.name} right of ${b.name}`);
    if (a.metric > b.metric) assert.ok(pa.y < pb.y, `${a.name} above ${b.name}`);
  }
  // kinds: one shape each
  assert.equal(pos.get('SASRec (teacher)')!.shape, 'rect');
  assert.equal(pos.get('AdaRec student')!.shape, 'circle');
  assert.equal(pos.get('transitions')!.shape, 'path');
  const legend = byClass(tags, 'legend')[0];
  for (const k of ['teacher', 'student', 'baseline']) assert.ok(legend.text.includes(k));
  // every point labelled
  const labels = byClass(tags, 'point-label').map((t) => unescape(t.text));
  assert.deepEqual([...labels].sort(), POINTS.map((p) => p.name).sort());

  // x ticks: 1, 2, 5 x 10^k inside the positive range (+ the zero lane for 'most popular')
  const xt = byClass(tags, 'tick').filter((t) => t.attrs.class === 'tick x').map((t) => Number(t.attrs['data-value']));
  assert.equal(xt[xt.length - 1] === 0 || xt.includes(0), true, 'zero lane tick');
  const logT = xt.filter((v) => v > 0);
  assert.ok(logT.length >= 4);
  for (const v of logT) {
    const k = Math.floor(Math.log10(v) + 1e-9), m = v / 10 ** k;
    assert.ok([1, 2, 5].some((c) => Math.abs(m - c) < 1e-9), `tick ${v} is 1/2/5 x 10^k`);
    assert.ok(v >= 3700 / 10 && v <= 95e6 * 10, `tick ${v} near the data`);
  }
  assert.ok(Math.min(...logT) <= 3700 && Math.max(...logT) >= 95e6, 'ticks span the data');
  assert.ok(pos.get('most popular')!.x < pos.get('transitions')!.x, 'zero cost left of the log axis');
  const yt = byClass(tags, 'tick').filter((t) => t.attrs.class === 'tick y').map((t) => Number(t.attrs['data-value']));
  assert.ok(yt[0] <= 0.041 && yt[yt.length - 1] >= 0.151);
  const step = yt[1] - yt[0];
  for (let i = 1; i < yt.length; i++) assert.ok(Math.abs(yt[i] - yt[i - 1] - step) < 1e-9, 'even y steps');

  // latency requested but missing for one point: MACs, said in the axis label
  const lat = parseSvg(tradeoffSvg(POINTS, { x: 'latencyMs', y: 'HR@10' }));
  const xl = unescape(byClass(lat, 'x-label')[0].text);
  assert.match(xl, /^MACs \(log scale\).*latency not measured/);
  assert.equal(unescape(byClass(lat, 'y-label')[0].text), 'HR@10');
  // latency for all: latency axis in ms
  const withLat = POINTS.filter((p) => p.latencyMs !== undefined);
  const ok = parseSvg(tradeoffSvg(withLat, { x: 'latencyMs', title: 'Speed' }));
  assert.equal(unescape(byClass(ok, 'x-label')[0].text), 'latency (ms) (log scale)');
  assert.equal(unescape(ok[1].text), 'Speed');
  // params axis, degenerate inputs
  parseSvg(tradeoffSvg(POINTS, { x: 'params' }));
  parseSvg(tradeoffSvg([POINTS[0]]));
  parseSvg(tradeoffSvg([]));
  // a model without a metric (or cost) is left out and named, not a crash at the end of a run
  const partial = parseSvg(tradeoffSvg([...POINTS, { name: 'unevaluated', kind: 'student', params: 1, macs: 1, metric: NaN }]));
  assert.equal(byClass(partial, 'point').length, POINTS.length);
  assert.match(byClass(partial, 'omitted')[0].text, /not shown .*: unevaluated$/);
  assert.equal(byClass(tags, 'omitted').length, 0);
  assert.throws(() => tradeoffSvg([{ ...POINTS[0], kind: 'oracle' as 'teacher' }]), /unknown kind/);
  assert.equal(tradeoffSvg(POINTS), svg);
});

test('paretoFront and the tradeoff picture\'s front: the models no other beats on both cost and metric', () => {
  const pts = [
    { name: 'a', kind: 'baseline', params: 1000, macs: 1, metric: 0.1 },
    { name: 'b', kind: 'student', params: 2000, macs: 1, metric: 0.3 },
    { name: 'c', kind: 'baseline', params: 3000, macs: 1, metric: 0.2 }, // b is cheaper and better
    { name: 'd', kind: 'teacher', params: 4000, macs: 1, metric: 0.5 },
    { name: 'e', kind: 'baseline', params: 2000, macs: 1, metric: 0.3 }, // b's twin: one of them is on the front
    { name: 'f', kind: 'baseline', params: 5000, macs: 1, metric: 0.5 }, // d is as good for less
  ] satisfies TradeoffPoint[];
  assert.deepEqual(paretoFront(pts, (p) => p.params, (p) => p.metric).map((p) => p.name), ['a', 'b', 'd']);
  assert.deepEqual(paretoFront([], (p: TradeoffPoint) => p.params, (p) => p.metric), []);

  const tags = parseSvg(tradeoffSvg(pts, { x: 'params', pareto: true }));
  const marked = byClass(tags, 'point').filter((t) => t.attrs['data-pareto'] === '1').map((t) => t.attrs['data-name']);
  assert.deepEqual(marked.sort(), ['a', 'b', 'd']);
  const pos = new Map(byClass(tags, 'point').map((t) => [t.attrs['data-name'], t.attrs.transform.match(/[\d.]+/g)!.map(Number)]));
  const [line] = byClass(tags, 'pareto');
  // a staircase: from a, right to b's cost, up to b's metric, right to d's, up to d's, then right to the frame
  const d = line.attrs.d;
  const [ax, ay] = pos.get('a')!, [bx, by] = pos.get('b')!, [dx, dy] = pos.get('d')!;
  assert.match(d, new RegExp(`^M${ax} ${ay} H${bx} V${by} H${dx} V${dy} H[\\d.]+$`));
  assert.equal(byClass(parseSvg(tradeoffSvg(pts, { x: 'params' })), 'pareto').length, 0, 'only when asked');
  assert.equal(byClass(parseSvg(tradeoffSvg([pts[0]], { pareto: true })), 'pareto').length, 0, 'not for a single model');
});

test('lineChartSvg: a line per series, missing values left out, the best epoch ringed, distinct ticks', () => {
  const svg = lineChartSvg({
    title: 'validation ndcg@10', y: 'ndcg@10',
    series: [
      { name: 'student', best: 3, points: [[1, 0.081], [2, 0.0825], [3, 0.084], [4, 0.0832]] },
      { name: 'student-seed2', best: 2, points: [[1, 0.0805], [2, NaN], [3, 0.083]] },
    ],
  });
  const tags = parseSvg(svg);
  const series = byClass(tags, 'series');
  assert.deepEqual(series.map((s) => [s.attrs['data-name'], s.attrs['data-points']]), [['student', '4'], ['student-seed2', '2']]);
  const lines = tags.filter((t) => t.name === 'polyline').map((t) => t.attrs.points.split(' ').map((p) => p.split(',').map(Number)));
  assert.equal(lines[0].length, 4);
  for (let i = 1; i < 4; i++) assert.ok(lines[0][i][0] > lines[0][i - 1][0], 'epochs go right');
  assert.ok(lines[0][2][1] < lines[0][0][1], 'a larger value is higher');
  // student's ring is on its epoch-3 point; seed 2's best epoch has no value, so no ring
  const rings = byClass(tags, 'best');
  assert.equal(rings.length, 1);
  assert.deepEqual([Number(rings[0].attrs.cx), Number(rings[0].attrs.cy)], lines[0][2]);
  assert.match(unescape(rings[0].text), /student: best epoch 3, 0\.084/);
  const yTicks = byClass(tags, 'tick').filter((t) => t.attrs.class === 'tick y').map((t) => t.text);
  assert.ok(yTicks.length >= 3);
  assert.equal(new Set(yTicks).size, yTicks.length, `distinct y tick labels: ${yTicks}`);
  const xTicks = byClass(tags, 'tick').filter((t) => t.attrs.class === 'tick x').map((t) => Number(t.text));
  assert.equal(xTicks[0], 1);
  assert.equal(xTicks[xTicks.length - 1], 4);
  assert.equal(lineChartSvg({ title: 'validation ndcg@10', y: 'ndcg@10', series: [] }).includes('no values recorded yet'), true);
  // many series: the legend takes more rows and the chart grows, the plot keeps its height
  const many = parseSvg(lineChartSvg({ title: 't', y: 'loss', series: Array.from({ length: 8 }, (_, i) => ({ name: `random-search-candidate-${i + 1}`, points: [[1, i], [2, i + 1]] as [number, number][] })) }));
  const one = parseSvg(lineChartSvg({ title: 't', y: 'loss', series: [{ name: 'a', points: [[1, 0], [2, 1]] }] }));
  assert.ok(Number(many[0].attrs.height) > Number(one[0].attrs.height) + 28);
  assert.equal(svg, lineChartSvg({
    title: 'validation ndcg@10', y: 'ndcg@10',
    series: [{ name: 'student', best: 3, points: [[1, 0.081], [2, 0.0825], [3, 0.084], [4, 0.0832]] }, { name: 'student-seed2', best: 2, points: [[1, 0.0805], [2, NaN], [3, 0.083]] }],
  }), 'deterministic');
});

test('inlineSvg: no XML declaration, and ids (with their references) made unique per picture', () => {
  const svg = alphaHeatmapSvg(history(3));
  assert.ok(svg.includes('id="alpha-scale"') && svg.includes('url(#alpha-scale)'));
  const a = inlineSvg(svg, 'p1'), b = inlineSvg(svg, 'p2');
  assert.ok(a.startsWith('<svg '));
  assert.ok(a.includes('id="p1-alpha-scale"') && a.includes('url(#p1-alpha-scale)') && !a.includes('url(#alpha-scale)'));
  assert.ok(b.includes('id="p2-alpha-scale"'));
  const cell = inlineSvg(cellSvg(CELL), 'c');
  const ids = [...cell.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
  for (const ref of cell.matchAll(/url\(#([^)]+)\)/g)) assert.ok(ids.includes(ref[1]), `${ref[1]} is defined`);
});

test('the three pictures written to a run folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'adarec-report-'));
  try {
    const files = { 'cell.svg': cellSvg(CELL), 'alpha.svg': alphaHeatmapSvg(history(12)), 'tradeoff.svg': tradeoffSvg(POINTS) };
    for (const [name, svg] of Object.entries(files)) writeFileSync(join(dir, name), svg);
    for (const name of Object.keys(files)) {
      const back = readFileSync(join(dir, name), 'utf8');
      assert.ok(back.length > 500, `${name} non-empty`);
      parseSvg(back);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
