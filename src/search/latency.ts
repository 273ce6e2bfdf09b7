// Searching for a latency budget (search config cost 'latency'): the operators priced by the
// serving machine's measured latencies (eval/latency-table.ts), the efficiency term as a hinge on
// the expected latency above the budget, and the derivation of the most probable genotype whose
// predicted latency fits.
//
// Term. E_p[latency | R], the student's expected latency under p = softmax(alpha) per edge at crop
// R (search/efficiency.ts), is what alpha's gradient comes from: deterministic and smooth in alpha
// (a penalty on one Gumbel sample's latency would be zero for the samples under the budget and a
// coin flip's sign for the rest). The crop depends on the whole genotype, so it is held fixed
// within a step, as the straight-through estimator holds the sample fixed. Two hinges
// (latencyPenalty):
// - 'expected': L_E = max(0, E_p[latency | R] / budget - 1), R the crop of the step's sample.
//   While alpha is near uniform E_p is about the space's mean latency, so a budget below that keeps
//   the hinge on until most of alpha's mass sits on the cheapest operators: measured on the
//   synthetic default, every budget gave a cell of skip and none far under it (docs/RESULTS.md).
// - 'derived' (the default): the same gradient, E_p at the crop of the argmax genotype, but on
//   while the genotype the search would derive now (the argmax) is predicted over the budget, and
//   of the value max(0, latency(argmax) / budget - 1): forward the hard genotype, backward the
//   expectation, as the straight-through Gumbel sample. It stops pushing once the argmax fits, so
//   the task is free to spend the budget.
//
// Derivation. The argmax of alpha need not fit (E_p can be within the budget while the argmax is
// not, and alpha stays near uniform for many epochs), so the genotype is the most probable one
// (largest sum of log softmax(alpha) over the rows) whose predicted latency fits: exact, by
// enumerating every genotype, when the space holds at most 2^20 (a shared cell of 6 edges and 8
// operators: 262,144); otherwise greedy from the argmax, each step the swap of one row's operator
// that gives up the least log-probability per millisecond saved, until it fits. The search
// validates this genotype every epoch, so the best epoch is the best genotype that fits.
import { F, tensor, type Tensor } from '../engine/index.js';
import { cellEdges } from '../models/adarec/cell.js';
import { operatorSpan } from '../models/adarec/genotype.js';
import type { OperatorSpec } from '../models/adarec/ops/edge-op.js';
import { latencyPrices, quantileLine, type LatencyPath, type LatencyQuantile, type LatencyTable } from '../eval/latency-table.js';
import { expectedLatency, latencyHinge } from './efficiency.js';

export interface LatencyPricingOptions {
  nodes: number;
  cells: number;
  /** One alpha row block per cell (else one shared by all cells). */
  perCell: boolean;
  /** The window (crops are at most this long). */
  window: number;
  path: LatencyPath;
  quantile: LatencyQuantile;
  budgetMs: number;
  /** Which hinge (see the header); default 'derived'. */
  penalty?: 'expected' | 'derived';
}

/** A genotype chosen within the budget, as columns per alpha row. */
export interface BudgetedChoice {
  index: Int32Array;
  /** Its predicted latency at the budget's quantile (ms). */
  predictedMs: number;
  fits: boolean;
  /** The argmax genotype's predicted latency, and how many rows differ from it. */
  argmaxPredictedMs: number;
  changedRows: number;
}

/** Above this many genotypes the derivation is greedy instead of exact. */
const MAX_ENUMERATED = 2 ** 20;

export class LatencyPricing {
  readonly rows: number;
  readonly edges: number;
  /** Cells an alpha row stands for. */
  readonly rowFactor: number;
  /** The sum of medians -> the budget's quantile: factor x sum + offsetMs (eval/latency-table.ts quantileLine). */
  readonly factor: number;
  readonly offsetMs: number;
  /** Per operator: its span (undefined: none, computes nothing; null: looks ahead). */
  private readonly spans: (number | null | undefined)[];
  private readonly byCrop = new Map<number, { fixed: number; ops: Float64Array }>();

  constructor(private readonly table: LatencyTable, private readonly operators: readonly OperatorSpec[], readonly o: LatencyPricingOptions) {
    this.edges = cellEdges(o.nodes).length;
    this.rows = o.perCell ? o.cells * this.edges : this.edges;
    this.rowFactor = o.perCell ? 1 : o.cells;
    ({ factor: this.factor, offsetMs: this.offsetMs } = quantileLine(table, o.path, o.quantile));
    this.spans = operators.map((op) => (op.kind === 'none' ? undefined : operatorSpan(op)));
  }

  /** The fixed part (base + cells x glue) and each operator's price at crop R, as plain sums of medians. */
  pricesAt(R: number): { fixed: number; ops: Float64Array } {
    let p = this.byCrop.get(R);
    if (!p) {
      const t = latencyPrices(this.table, this.operators.map((op) => op.name), this.o.path, R);
      p = { fixed: t.base + this.o.cells * t.cell, ops: t.ops };
      this.byCrop.set(R, p);
    }
    return p;
  }

  /** The crop a genotype (columns per alpha row) is served with: 1 for stream. */
  cropOf(cols: ArrayLike<number>): number {
    if (this.o.path === 'stream') return 1;
    const E = this.edges, N = this.o.nodes, node = new Float64Array(N + 1);
    let R = 1;
    for (let k = 0; k < this.o.cells; k++) {
      const off = this.o.perCell ? k * E : 0;
      node.fill(0);
      let e = 0, span = 0;
      for (let to = 1; to <= N; to++) {
        let s = 0;
        for (let from = 0; from < to; from++, e++) {
          const d = this.spans[cols[off + e]];
          if (d === undefined) continue;
          if (d === null) return this.o.window;
          s = Math.max(s, node[from] + d);
        }
        node[to] = s;
        span = Math.max(span, s);
      }
      R += span;
    }
    return Math.min(R, this.o.window);
  }

  /** Predicted latency (ms, at the budget's quantile) of a genotype given as columns per alpha row. */
  predict(cols: ArrayLike<number>): number {
    const { fixed, ops } = this.pricesAt(this.cropOf(cols));
    let sum = 0;
    for (let r = 0; r < this.rows; r++) sum += ops[cols[r]];
    return this.factor * (fixed + this.rowFactor * sum) + this.offsetMs;
  }

  /**
   * The efficiency term of a step whose Gumbel sample is `sample` (columns per row; the header
   * says which hinge), and E_p[latency] (ms) for the logs.
   */
  penalty(alpha: Tensor, sample: ArrayLike<number>): { loss: Tensor; expectedMs: number } {
    const derived = (this.o.penalty ?? 'derived') === 'derived';
    const argmax = derived ? argmaxOf(alpha.values, this.operators.length) : null;
    const { fixed, ops } = this.pricesAt(this.cropOf(argmax ?? sample));
    // a step's tensor (the caller's tidy disposes it after backward, which reads it)
    const prices = tensor(Float64Array.from(ops, (x) => x * this.factor), [ops.length], alpha.dtype);
    const expected = expectedLatency(alpha, prices, this.factor * fixed + this.offsetMs, this.rowFactor);
    const expectedMs = expected.item();
    if (!argmax) return { loss: latencyHinge(expected, this.o.budgetMs), expectedMs };
    const over = this.predict(argmax) / this.o.budgetMs - 1;
    // value max(0, over); gradient that of E_p / budget while over > 0, none otherwise
    const loss = over > 0 ? F.addScalar(F.mulScalar(expected, 1 / this.o.budgetMs), over - expectedMs / this.o.budgetMs) : F.mulScalar(expected, 0);
    return { loss, expectedMs };
  }

  /** The most probable genotype whose predicted latency fits the budget (see the header). */
  derive(alpha: ArrayLike<number>): BudgetedChoice {
    const O = this.operators.length, R = this.rows;
    if (alpha.length !== R * O) throw new Error(`alpha holds ${alpha.length} values, ${R} rows x ${O} operators expected`);
    const logp = logSoftmaxRows(alpha, O);
    const argmax = new Int32Array(R);
    for (let r = 0; r < R; r++) for (let c = 1; c < O; c++) if (logp[r * O + c] > logp[r * O + argmax[r]]) argmax[r] = c;
    const argmaxPredictedMs = this.predict(argmax);
    const done = (index: Int32Array): BudgetedChoice => {
      const predictedMs = this.predict(index);
      return { index, predictedMs, fits: predictedMs <= this.o.budgetMs, argmaxPredictedMs, changedRows: index.reduce((n, c, r) => n + (c !== argmax[r] ? 1 : 0), 0) };
    };
    if (argmaxPredictedMs <= this.o.budgetMs) return done(argmax);
    return done(O ** R <= MAX_ENUMERATED ? this.enumerate(logp) : this.greedy(logp, argmax));
  }

  /** Every genotype: the most probable that fits, else the fastest. */
  private enumerate(logp: Float64Array): Int32Array {
    const O = this.operators.length, R = this.rows, budget = this.o.budgetMs;
    const cols = new Int32Array(R);
    let best: Int32Array | null = null, bestLogp = -Infinity, bestMs = Infinity;
    let fastest = cols.slice(), fastestMs = Infinity;
    for (;;) {
      const ms = this.predict(cols);
      if (ms < fastestMs) { fastestMs = ms; fastest = cols.slice(); }
      if (ms <= budget) {
        let lp = 0;
        for (let r = 0; r < R; r++) lp += logp[r * O + cols[r]];
        if (lp > bestLogp || (lp === bestLogp && ms < bestMs)) { best = cols.slice(); bestLogp = lp; bestMs = ms; }
      }
      let r = 0;
      while (r < R && ++cols[r] === O) cols[r++] = 0;
      if (r === R) break;
    }
    return best ?? fastest;
  }

  /** From the argmax, the cheapest swaps (log-probability per millisecond) until it fits or nothing is faster. */
  private greedy(logp: Float64Array, start: Int32Array): Int32Array {
    const O = this.operators.length, R = this.rows;
    const cols = start.slice();
    let ms = this.predict(cols);
    while (ms > this.o.budgetMs) {
      let move: { r: number; c: number; ms: number; rate: number } | null = null;
      for (let r = 0; r < R; r++) {
        const was = cols[r];
        for (let c = 0; c < O; c++) {
          if (c === was) continue;
          cols[r] = c;
          const after = this.predict(cols);
          if (after < ms) {
            const rate = (logp[r * O + was] - logp[r * O + c]) / (ms - after);
            if (!move || rate < move.rate) move = { r, c, ms: after, rate };
          }
        }
        cols[r] = was;
      }
      if (!move) break;
      cols[move.r] = move.c;
      ms = move.ms;
    }
    return cols;
  }
}

function argmaxOf(alpha: ArrayLike<number>, O: number): Int32Array {
  const out = new Int32Array(alpha.length / O);
  for (let r = 0; r < out.length; r++) for (let c = 1; c < O; c++) if (alpha[r * O + c] > alpha[r * O + out[r]]) out[r] = c;
  return out;
}

function logSoftmaxRows(alpha: ArrayLike<number>, O: number): Float64Array {
  const out = new Float64Array(alpha.length);
  for (let r = 0; r < alpha.length / O; r++) {
    let max = -Infinity;
    for (let c = 0; c < O; c++) max = Math.max(max, alpha[r * O + c]);
    let z = 0;
    for (let c = 0; c < O; c++) z += Math.exp(alpha[r * O + c] - max);
    const lz = max + Math.log(z);
    for (let c = 0; c < O; c++) out[r * O + c] = alpha[r * O + c] - lz;
  }
  return out;
}
