// Measured operator latencies of one machine (`adarec profile-ops`, serve/profile-ops.ts) and the
// latency of a genotype predicted from them: what a latency-priced search pays for an operator.
//
// A student in the serving path (batch 1, last position) costs, in milliseconds,
//   window (serve/fast-score.ts, the receptive-field crop of R = min(receptive field, window) positions):
//     base(R) + cells x cell(R) + sum over cells and edges of op(R)
//   stream (serve/stream.ts, one event of a position-free student: push + logits):
//     base + cells x cell + sum over cells and edges of op
// where base is the crop, the embeddings and the output layer at the last position, cell the glue
// of a cell (node sums, their weighting, LayerNorm, ReLU, residual) and op an edge (ReLU, the
// operator, the add into its node); none costs 0. The table holds the median and the p99 of each
// part at a grid of crop lengths (window; linear in between) or per event (stream). A model's
// median is predicted as the sum of its parts' medians times the path's scale, and its p99 from
// that median by a line, p99 = tail x p50 + tailMs: per-part p99s do not add up (each is set by
// the rare calls another process interrupts), and the tail is not a fixed ratio either (measured
// quiet on 2 vCPUs: p99/p50 2.2 for 0.3 ms students, 2.5-2.9 for 0.1 ms ones: part of the delay
// is a fixed cost per interruption). Both are fitted on the probes, whole students of random
// genotypes and of 1, 2 and 4 cells timed beside the parts (fitTail): the scale is the median of
// measured / summed medians; the line's slope is fitted to the probes, and its intercept raised
// until the line covers every probe's p99 (a p99 budget is a bound, not an average).
import { z } from 'zod';
import { readJsonFile, parseConfig } from '../util/config-file.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { genotypeReceptiveField, type Genotype } from '../models/adarec/genotype.js';

export const LATENCY_TABLE_FORMAT = 'adarec-ops-latency';
export type LatencyPath = 'window' | 'stream';

const ms = z.number().min(0).finite();
const positiveInt = z.number().int().positive();
/** One part's milliseconds at each crop length of the grid. */
const series = z.object({ p50: z.array(ms), p99: z.array(ms) }).strict();
const stat = z.object({ p50: ms, p99: ms }).strict();
// tailMs: absent from tables written before it existed (their tail was the median p99/p50 ratio)
const fitSchema = z.object({ scale: z.number().positive().finite(), tail: z.number().min(1).finite(), tailMs: ms.default(0) }).strict();

export const latencyTableSchema = z.object({
  format: z.literal(LATENCY_TABLE_FORMAT),
  version: z.literal(1),
  /** ISO time of the profile. */
  created: z.string(),
  machine: z.object({
    cpu: z.string(),
    cores: positiveInt,
    /** Load average (1, 5, 15 min) when profiling started: a busy machine's figures are slower and noisier. */
    load: z.array(z.number().min(0)).length(3),
    node: z.string(),
    platform: z.string(),
    backend: z.enum(['js', 'native']),
    /** GEMM threads (ADAREC_THREADS) and library (ADAREC_GEMM; default oneDNN). */
    threads: positiveInt,
    gemm: z.string(),
  }).strict(),
  settings: z.object({
    hidden: positiveInt,
    /** The window (longest crop) in positions. */
    length: positiveInt,
    /** Items of the catalog (the output layer scores items + 1 ids). */
    items: positiveInt,
    /** Nodes per cell (the glue's size). */
    nodes: positiveInt,
    convNorm: z.enum(['batch', 'layer', 'none']),
    /** The window path's embedding (stream students have none). */
    positions: z.enum(['learned', 'none']),
    batch: z.literal(1),
    warmup: z.number().int().min(0),
    rounds: positiveInt,
    perRound: positiveInt,
  }).strict(),
  window: z.object({
    /** Crop lengths of the grid, ascending, the last = settings.length. */
    lengths: z.array(positiveInt).min(1),
    base: series,
    cell: series,
    operators: z.record(series),
  }).strict(),
  /** Per event; null when not profiled. Operators that look ahead cannot stream and are absent. */
  stream: z.object({ base: stat, cell: stat, operators: z.record(stat) }).strict().nullable(),
  /**
   * Per path, fitted on its probes: `scale` = median of measured p50 / the sum of the parts'
   * medians (what the parts miss: the model's glue between them, caches); p99 = `tail` x p50 +
   * `tailMs` (fitTail). Null for stream when it was not profiled.
   */
  fit: z.object({ window: fitSchema, stream: fitSchema.nullable() }).strict(),
  /** Whole students of random genotypes: predictedP50 is the plain sum of their parts' medians (before the scale). */
  probes: z.array(z.object({
    path: z.enum(['window', 'stream']),
    cells: positiveInt,
    /** One cell's operators (shared by all cells). */
    edges: z.array(z.string()),
    predictedP50: ms,
    measuredP50: ms,
    measuredP99: ms,
  }).strict()),
}).strict().superRefine((t, ctx) => {
  const issue = (path: (string | number)[], message: string): void => ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
  const L = t.window.lengths;
  L.forEach((l, i) => { if (i > 0 && l <= L[i - 1]) issue(['window', 'lengths', i], `must be ascending (${l} after ${L[i - 1]})`); });
  if (L[L.length - 1] !== t.settings.length) issue(['window', 'lengths'], `must end at settings.length ${t.settings.length}, ends at ${L[L.length - 1]}`);
  const checkSeries = (s: z.infer<typeof series>, path: (string | number)[]): void => {
    for (const q of ['p50', 'p99'] as const) if (s[q].length !== L.length) issue([...path, q], `holds ${s[q].length} values, window.lengths ${L.length}`);
  };
  checkSeries(t.window.base, ['window', 'base']);
  checkSeries(t.window.cell, ['window', 'cell']);
  for (const [name, s] of Object.entries(t.window.operators)) checkSeries(s, ['window', 'operators', name]);
  if (t.stream) for (const name of Object.keys(t.stream.operators))
    if (!(name in t.window.operators)) issue(['stream', 'operators', name], 'has no window entry');
  if ((t.stream === null) !== (t.fit.stream === null)) issue(['fit', 'stream'], t.stream ? 'required when stream is profiled' : 'must be null when stream is not profiled');
});

export type LatencyTable = z.output<typeof latencyTableSchema>;

/** Reads and validates a table; the error names the file and every bad field. */
export function readLatencyTable(path: string): LatencyTable {
  return parseConfig(latencyTableSchema, readJsonFile(path), path);
}

/** Validates and writes a table atomically (so that it reads back as written). */
export function writeLatencyTable(path: string, table: LatencyTable): void {
  const checked = parseConfig(latencyTableSchema, table, `${path} (being written)`);
  writeFileAtomic(path, [Buffer.from(JSON.stringify(checked, null, 2) + '\n', 'utf8')]);
}

/** What a search or a check needs the table to have been profiled for; the error says what differs. */
export interface TableRequirements {
  hidden: number;
  /** The window the search scores (the table's must be at least as long). */
  length: number;
  items: number;
  nodes: number;
  convNorm: 'batch' | 'layer' | 'none';
  positions: 'learned' | 'none';
  operators: readonly string[];
  path: LatencyPath;
}

export function assertTableFits(t: LatencyTable, need: TableRequirements, source: string): void {
  const s = t.settings, bad: string[] = [];
  if (s.hidden !== need.hidden) bad.push(`settings.hidden: profiled at ${s.hidden}, the search's student has ${need.hidden}`);
  if (s.length < need.length) bad.push(`settings.length: profiled up to ${s.length} positions, the search's window is ${need.length}`);
  if (s.items !== need.items) bad.push(`settings.items: profiled for ${s.items} items, the data has ${need.items}`);
  if (s.nodes !== need.nodes) bad.push(`settings.nodes: profiled for cells of ${s.nodes} nodes, the search's have ${need.nodes}`);
  if (s.convNorm !== need.convNorm) bad.push(`settings.convNorm: profiled with '${s.convNorm}', the search uses '${need.convNorm}'`);
  if (need.path === 'window' && s.positions !== need.positions) bad.push(`settings.positions: profiled with '${s.positions}', the search uses '${need.positions}'`);
  const ops = need.path === 'window' ? t.window.operators : t.stream?.operators;
  if (!ops) bad.push('stream: not profiled (the search prices the stream path)');
  else {
    const missing = need.operators.filter((o) => !(o in ops));
    if (missing.length) bad.push(`${need.path}.operators: no entry for ${missing.join(', ')}`);
  }
  if (bad.length) throw new Error(`${source}: this latency table does not fit the search (profile again with adarec profile-ops): ${bad.join('; ')}`);
}

/** Linear interpolation of a series at crop length `len` (clamped to the grid). */
function at(lengths: readonly number[], values: readonly number[], len: number): number {
  if (len <= lengths[0]) return values[0];
  for (let i = 1; i < lengths.length; i++) {
    if (len <= lengths[i]) {
      const f = (len - lengths[i - 1]) / (lengths[i] - lengths[i - 1]);
      return values[i - 1] + f * (values[i] - values[i - 1]);
    }
  }
  return values[values.length - 1];
}

/** The medians a model is priced with: the fixed part (base), one cell's glue, and each operator's edge. */
export interface LatencyPrices {
  base: number;
  cell: number;
  /** By operator, in the order asked. */
  ops: Float64Array;
}

/**
 * The medians at crop length `cropLength` (window; ignored for stream) for `operators` (none: 0
 * whether or not the table lists it).
 */
export function latencyPrices(t: LatencyTable, operators: readonly string[], path: LatencyPath, cropLength: number): LatencyPrices {
  const price = (name: string): number => {
    if (name === 'none') return 0;
    if (path === 'stream') {
      const s = t.stream?.operators[name];
      if (!s) throw new Error(`latency table: no stream entry for operator '${name}'`);
      return s.p50;
    }
    const s = t.window.operators[name];
    if (!s) throw new Error(`latency table: no window entry for operator '${name}'`);
    return at(t.window.lengths, s.p50, cropLength);
  };
  if (path === 'stream') {
    if (!t.stream) throw new Error('latency table: the stream path was not profiled');
    return { base: t.stream.base.p50, cell: t.stream.cell.p50, ops: Float64Array.from(operators, price) };
  }
  const L = t.window.lengths;
  return { base: at(L, t.window.base.p50, cropLength), cell: at(L, t.window.cell.p50, cropLength), ops: Float64Array.from(operators, price) };
}

/** The crop a window-scored genotype is served with: its receptive field, at most the window (serve/fast-score.ts). */
export function cropLength(g: Genotype, window: number): number {
  const R = genotypeReceptiveField(g);
  return R === null ? window : Math.min(R, window);
}

/** Latency quantiles a budget may bound. */
export type LatencyQuantile = 'p50' | 'p99';

/** Quantile `q` of a model on `path` as a line in the plain sum of its parts' medians: factor x sum + offsetMs. */
export function quantileLine(t: LatencyTable, path: LatencyPath, q: LatencyQuantile): { factor: number; offsetMs: number } {
  const fit = path === 'window' ? t.fit.window : t.fit.stream;
  if (!fit) throw new Error('latency table: the stream path was not profiled');
  return q === 'p99' ? { factor: fit.scale * fit.tail, offsetMs: fit.tailMs } : { factor: fit.scale, offsetMs: 0 };
}

/**
 * The p99 line over measured (p50, p99) points: the least-squares slope (at least 1; the median
 * p99/p50 ratio where the medians span less than 1.5x, too narrow for a slope), then the smallest
 * intercept >= 0 that puts the line at or above every point.
 */
export function fitTail(points: readonly { p50: number; p99: number }[]): { tail: number; tailMs: number } {
  const ps = points.filter((p) => p.p50 > 0);
  if (ps.length === 0) return { tail: 1, tailMs: 0 };
  const x = ps.map((p) => p.p50), y = ps.map((p) => p.p99);
  const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  let slope: number;
  if (Math.max(...x) >= 1.5 * Math.min(...x)) {
    const mx = mean(x), my = mean(y);
    let sxy = 0, sxx = 0;
    for (let i = 0; i < x.length; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ** 2; }
    slope = sxy / sxx;
  } else {
    const ratios = ps.map((p) => p.p99 / p.p50).sort((a, b) => a - b);
    slope = ratios[Math.floor((ratios.length - 1) / 2)];
  }
  const tail = Math.max(1, slope);
  return { tail, tailMs: Math.max(0, ...ps.map((p) => p.p99 - tail * p.p50)) };
}

export interface LatencyPrediction {
  p50: number;
  p99: number;
  /** The plain sum of the parts' medians (before the fitted scale). */
  sum: number;
  /** Positions scored (window path), null for stream. */
  cropLength: number | null;
}

/** The plain sum of a genotype's parts' medians (milliseconds) at its crop (window) or per event (stream). */
export function latencySum(t: LatencyTable, g: Genotype, path: LatencyPath, window: number): { sum: number; cropLength: number | null } {
  const R = path === 'window' ? cropLength(g, window) : 1;
  const names = [...new Set(g.cells.flat())];
  const prices = latencyPrices(t, names, path, R);
  const of = new Map(names.map((n, i) => [n, prices.ops[i]]));
  let sum = prices.base + g.cells.length * prices.cell;
  for (const edges of g.cells) for (const name of edges) sum += of.get(name)!;
  return { sum, cropLength: path === 'window' ? R : null };
}

/** A genotype's predicted serving latency (milliseconds, batch 1) at window `window`. */
export function predictLatency(t: LatencyTable, g: Genotype, path: LatencyPath, window: number): LatencyPrediction {
  const { sum, cropLength: R } = latencySum(t, g, path, window);
  const at = (q: LatencyQuantile): number => { const l = quantileLine(t, path, q); return l.factor * sum + l.offsetMs; };
  return { p50: at('p50'), p99: at('p99'), sum, cropLength: R };
}
