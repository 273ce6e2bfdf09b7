// Small SVG building blocks shared by the report pictures (cell.svg, alpha.svg, tradeoff.svg):
// escaping, stable number formatting, elements, the document wrapper, nice axis ticks and colour
// scales. Everything is a pure function of its input, and every number is written rounded to two
// decimals, so a run folder's pictures are byte-identical across reruns and diff cleanly.

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for XML content and double-quoted attributes. Control characters that XML 1.0
 * forbids outright (no escape can carry them) become U+FFFD, so odd operator names or data set
 * labels cannot make a picture unreadable.
 */
export function esc(s: string): string {
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '\ufffd').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** A number for SVG output: rounded to 2 decimals, no "-0", never NaN/Infinity (those are bugs upstream). */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`svg: cannot write the non-finite number ${x}`);
  const r = Math.round(x * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

/** A probability or other unit-range value as a label: always two decimals ("0.60", not "0.6"). */
export function fmtProb(p: number): string {
  return p.toFixed(2);
}

export type Attrs = Readonly<Record<string, string | number | undefined>>;

/**
 * One element. Attribute values are escaped (strings) or rounded (numbers); `undefined` leaves the
 * attribute out. `content` is inserted as is: callers pass escaped text or other elements. Building
 * every element here is what keeps the output well-formed.
 */
export function el(name: string, attrs: Attrs, content?: string): string {
  let s = '<' + name;
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined) s += ` ${k}="${typeof v === 'number' ? fmt(v) : esc(v)}"`;
  }
  return content === undefined ? s + '/>' : `${s}>${content}</${name}>`;
}

/** A text element holding `s` (escaped here). */
export function text(x: number, y: number, s: string, attrs: Attrs = {}): string {
  return el('text', { x, y, ...attrs }, esc(s));
}

/** Text drawn over lines: a white halo (stroke painted under the fill) keeps it readable. */
export const HALO: Attrs = { stroke: '#fff', 'stroke-width': 3, 'stroke-linejoin': 'round', 'paint-order': 'stroke' };

export const FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";

/**
 * Approximate rendered width of `s` at `size` px in a sans-serif font. Layout only needs an upper
 * estimate to keep labels apart, so 0.6 em per character (a little wider than the average glyph).
 */
export function textWidth(s: string, size: number): number {
  return [...s].length * size * 0.6;
}

/** A standalone SVG document: XML declaration, xmlns, size, viewBox, a <title>, white background. */
export function svgDocument(o: { width: number; height: number; title: string; body: readonly string[]; defs?: readonly string[] }): string {
  const w = fmt(Math.ceil(o.width)), h = fmt(Math.ceil(o.height));
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="${esc(FONT_FAMILY)}" font-size="12">`,
    `<title>${esc(o.title)}</title>`,
    ...(o.defs && o.defs.length > 0 ? ['<defs>', ...o.defs, '</defs>'] : []),
    el('rect', { width: '100%', height: '100%', fill: '#fff' }),
    ...o.body,
    '</svg>',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Axes

/**
 * The 1, 2, 5 or 10 x 10^k step nearest to span / target on a log scale (the cut points are the
 * geometric means sqrt(2), sqrt(10), sqrt(50), as d3 does), so the tick count stays near target.
 */
export function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const k = Math.floor(Math.log10(raw));
  const m = raw / 10 ** k;
  const f = m >= Math.sqrt(50) ? 10 : m >= Math.sqrt(10) ? 5 : m >= Math.SQRT2 ? 2 : 1;
  return k < 0 ? f / 10 ** -k : f * 10 ** k;
}

/** Decimals needed to write multiples of `step` exactly (0.05 -> 2, 5 -> 0). */
function stepDecimals(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/**
 * A linear axis: [lo, hi] widened outward to whole steps of 1, 2 or 5 x 10^k and the ticks on
 * it, about `target` of them. An empty range (all values equal) is widened by 10% of the value
 * (or by 1 around 0) so a single point still gets an axis.
 */
export function niceLinear(lo: number, hi: number, target = 5): { lo: number; hi: number; ticks: number[] } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`niceLinear: non-finite range [${lo}, ${hi}]`);
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) { const d = Math.abs(lo) * 0.1 || 1; lo -= d; hi += d; }
  const step = niceStep(hi - lo, target);
  const a = Math.floor(lo / step + 1e-9), b = Math.ceil(hi / step - 1e-9);
  const dec = stepDecimals(step);
  const ticks: number[] = [];
  for (let i = a; i <= b; i++) ticks.push(Number((i * step).toFixed(dec)) + 0);
  return { lo: ticks[0], hi: ticks[ticks.length - 1], ticks };
}

/** Integer ticks for epochs 1..n (about `target` of them; always includes 1 and n). */
export function epochTicks(n: number, target = 5): number[] {
  if (n <= 1) return n === 1 ? [1] : [];
  const step = Math.max(1, Math.round(niceStep(n - 1, target)));
  const ticks = [1];
  for (let t = step; t < n; t += step) if (t > 1) ticks.push(t);
  // drop an inner tick crowding the last one (e.g. 20 next to 21)
  if (ticks.length > 1 && n - ticks[ticks.length - 1] < step / 2) ticks.pop();
  ticks.push(n);
  return ticks;
}

const MANTISSAS = [1, 2, 5] as const;

/** m x 10^k written so that it equals the decimal literal (0.002, not 0.0020000000000000005). */
function decimalPower(m: number, k: number): number {
  return k < 0 ? m / 10 ** -k : m * 10 ** k;
}

/** All 1, 2, 5 x 10^k values around [lo, hi] (lo > 0), ascending. */
function oneTwoFive(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = Math.floor(Math.log10(lo)) - 1; k <= Math.ceil(Math.log10(hi)) + 1; k++) {
    for (const m of MANTISSAS) out.push(decimalPower(m, k));
  }
  return out;
}

/**
 * A log axis domain: [lo, hi] (both > 0) snapped outward to 1, 2, 5 x 10^k values (to powers of
 * ten beyond four decades, matching logTicks), so the axis starts and ends on a tick. A single
 * value that is itself such a value gets the neighbours.
 */
export function niceLogDomain(lo: number, hi: number): { lo: number; hi: number } {
  if (!(lo > 0) || !(hi >= lo) || !Number.isFinite(hi)) throw new Error(`niceLogDomain: need 0 < lo <= hi, got [${lo}, ${hi}]`);
  const vals = oneTwoFive(lo, hi);
  const eps = 1e-9;
  let a = 0, b = vals.length - 1;
  for (let i = 0; i < vals.length; i++) if (vals[i] <= lo * (1 + eps)) a = i;
  for (let i = vals.length - 1; i >= 0; i--) if (vals[i] >= hi * (1 - eps)) b = i;
  if (a === b) { a = Math.max(0, a - 1); b = Math.min(vals.length - 1, b + 1); }
  // over more than four decades logTicks keeps only powers of ten: end on powers of ten too
  if (Math.log10(vals[b] / vals[a]) > 4) return { lo: decimalPower(1, Math.floor(Math.log10(lo) + eps)), hi: decimalPower(1, Math.ceil(Math.log10(hi) - eps)) };
  return { lo: vals[a], hi: vals[b] };
}

/**
 * Log axis ticks: the 1, 2, 5 x 10^k values inside [lo, hi]. Over more than four decades that
 * would crowd the axis, so only the powers of ten are kept (every other, or sparser, beyond ten).
 */
export function logTicks(lo: number, hi: number): number[] {
  if (!(lo > 0) || !(hi >= lo)) throw new Error(`logTicks: need 0 < lo <= hi, got [${lo}, ${hi}]`);
  const eps = 1e-9;
  const inside = oneTwoFive(lo, hi).filter((v) => v >= lo * (1 - eps) && v <= hi * (1 + eps));
  if (Math.log10(hi / lo) <= 4) return inside;
  const powers = inside.filter((v) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9);
  const every = Math.max(1, Math.ceil(powers.length / 10));
  return powers.filter((_, i) => i % every === 0);
}

/** A compact tick label: 1k, 2.5M, 0.05, 1G. Three significant digits at most. */
export function formatCompact(v: number): string {
  const a = Math.abs(v);
  const sig = (x: number): string => String(Number(x.toPrecision(3)));
  for (const [p, s] of [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']] as const) if (a >= p) return sig(v / p) + s;
  return sig(v);
}

// ---------------------------------------------------------------------------------------------
// Colour

/**
 * Sequential white -> dark blue (the ColorBrewer "Blues" ramp from pure white). Every channel is
 * non-increasing along the stops, so the colour gets darker as t grows: probability reads as ink.
 */
const BLUES = ['#ffffff', '#deebf7', '#9ecae1', '#4292c6', '#08519c', '#08306b'] as const;

function hexRgb(h: string): [number, number, number] {
  return [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];
}

function rgbHex(c: readonly number[]): string {
  return '#' + c.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
}

/** The colour of t in [0, 1] (clamped) on the white -> dark blue scale. */
export function blues(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (BLUES.length - 1);
  const i = Math.min(BLUES.length - 2, Math.floor(x));
  const a = hexRgb(BLUES[i]), b = hexRgb(BLUES[i + 1]);
  const f = x - i;
  return rgbHex(a.map((v, c) => v + (b[c] - v) * f));
}

/** Gradient stops (for a legend bar) that reproduce `blues` over [0, 1]. */
export function bluesStops(): string[] {
  return BLUES.map((c, i) => el('stop', { offset: fmt(i / (BLUES.length - 1)), 'stop-color': c }));
}

/**
 * Distinct colours for categories (operators), colour-blind friendly first (Okabe-Ito), all dark
 * enough to read as thin lines and text on white.
 */
export const CATEGORICAL = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#7f3c8d', '#3969ac', '#e73f74', '#11a579'] as const;
