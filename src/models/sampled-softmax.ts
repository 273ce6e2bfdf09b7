// Sampled losses for large catalogs: the loss of a batch over a few items instead of the whole
// catalog, so that the output layer and the loss cost O(candidates), not O(items).
// - Sampled softmax: a shared candidate set (the batch's own positives, then sampled negatives).
//   Candidates drawn with probability q get the logQ correction (their logit minus log q: Bengio &
//   Senecal 2008, Yi et al. RecSys 2019), which keeps the estimate of the full softmax unbiased in
//   expectation for popularity-biased draws.
// - gBCE (gSASRec, Petrov & Macdonald, RecSys 2023): binary cross-entropy of each positive against
//   k uniformly sampled negatives (shared by the batch), the positive's probability raised to beta
//   so that the sigmoid of a score stays calibrated despite the sampling (gbceBeta).
// - Distillation's logits on a large catalog (LogitCandidates): the teacher's top k items at each
//   position and a shared sampled set, importance-weighted (distill/candidates.ts builds them).
import { F, tensor, type Tensor } from '../engine/index.js';

/** The candidates of one batch's sampled softmax and each target's column among them. */
export interface SoftmaxCandidates {
  kind: 'softmax';
  /** Item ids (model ids, >= 1): every distinct positive of the batch first, then the negatives. */
  items: Int32Array;
  /** Per target position (in the order of the positions with a target), its column in `items`. */
  labels: Int32Array;
  /** Subtracted from each candidate's logit (log q), or null for none. */
  correction: Float32Array | null;
  /**
   * Set when the batch had more distinct positives than it shares (sampledCandidates' cap): the
   * logits get a column before `items` with each row's own positive. A row whose positive is also a
   * shared column takes that column as its label (1 + its index) and its own column is masked
   * (`mask` -1e9; else 0 and label 0), so that every item counts once. `correction`: log q of each
   * row's positive.
   */
  own: { correction: Float32Array | null; mask: Float32Array } | null;
}

/** The negatives of one batch's gBCE: every target position is scored against all of them. */
export interface GbceNegatives {
  kind: 'gbce';
  /** Distinct item ids (>= 1). */
  negatives: Int32Array;
  /** The positive's exponent (gbceBeta). */
  beta: number;
}

export type SampledCandidates = SoftmaxCandidates | GbceNegatives;

/** What a batch's sampled loss scores, from its positives; a loss without one scores every item. */
export type CandidateSource = (positives: Int32Array) => SampledCandidates;

/**
 * gSASRec's beta for k negatives drawn uniformly from a catalog of numItems items and calibration
 * t in [0, 1]: alpha = k / (numItems - 1), beta = alpha (t (1 - 1/alpha) + 1/alpha). t = 0 gives
 * beta = 1 (plain binary cross-entropy, SASRec's loss); t = 1 gives beta = alpha, which makes the
 * expected gradient that of BCE over every item (the paper's calibrated case).
 */
export function gbceBeta(k: number, numItems: number, t: number): number {
  const alpha = Math.min(1, k / Math.max(1, numItems - 1));
  return alpha * (t * (1 - 1 / alpha) + 1 / alpha);
}

/**
 * A batch's gBCE negatives: the distinct ones of `drawn` (uniform draws). As in gSASRec, a negative
 * that happens to be a row's own positive is not removed (at catalog sizes where sampling matters
 * that is rare).
 */
export function gbceNegatives(drawn: Int32Array, numItems: number, t: number): GbceNegatives {
  const negatives = Int32Array.from(new Set(drawn));
  return { kind: 'gbce', negatives, beta: gbceBeta(negatives.length, numItems, t) };
}

/**
 * The candidate set of a batch: the distinct positives (each target must be scored; they are the
 * other rows' in-batch negatives), then the sampled negatives that are not positives. `logQ[item]`,
 * when given, is the log-probability with which an item enters the set. `share`: at most `cap`
 * distinct positives are shared as columns (a uniform choice among them by `uniform()`), so that
 * the column count, and a step's cost, stays at most cap + negatives however many distinct items a
 * batch's targets hold (they grow with the catalog); each row then scores its own positive in a
 * column of its own (SoftmaxCandidates.own). Under the cap nothing changes.
 */
export function sampledCandidates(positives: Int32Array, negatives: Int32Array, logQ: Float64Array | null,
  share?: { cap: number; uniform: () => number }): SoftmaxCandidates {
  const distinct = [...new Set(positives)];
  const capped = share !== undefined && distinct.length > share.cap;
  if (capped) {
    for (let i = distinct.length - 1; i > 0; i--) { // Fisher-Yates: the first cap are a uniform choice
      const j = Math.floor(share.uniform() * (i + 1));
      const t = distinct[i]; distinct[i] = distinct[j]; distinct[j] = t;
    }
    distinct.length = share.cap;
  }
  const column = new Map<number, number>();
  for (const p of distinct) column.set(p, column.size);
  for (const n of negatives) if (!column.has(n)) column.set(n, column.size);
  const items = Int32Array.from(column.keys());
  const correction = logQ ? Float32Array.from(items, (i) => logQ[i]) : null;
  const n = positives.length;
  if (!capped) return { kind: 'softmax', items, labels: Int32Array.from(positives, (p) => column.get(p)!), correction, own: null };
  const labels = new Int32Array(n), mask = new Float32Array(n);
  positives.forEach((p, r) => { const c = column.get(p); if (c !== undefined) { labels[r] = 1 + c; mask[r] = -1e9; } });
  return { kind: 'softmax', items, labels, correction, own: { correction: logQ ? Float32Array.from(positives, (p) => logQ[p]) : null, mask } };
}

/**
 * Draws `count` negatives (with replacement, item ids 1..numItems) uniformly or in proportion to
 * `weights[item]`, from `uniform()` values in [0, 1) (a seeded Rng's).
 */
export class NegativeSampler {
  private readonly cumulative: Float64Array | null;
  /** log q of each item under this sampler (index 0 unused), for the logQ correction. */
  readonly logQ: Float64Array;

  constructor(readonly numItems: number, weights: Float64Array | null) {
    this.logQ = new Float64Array(numItems + 1);
    if (!weights) {
      this.cumulative = null;
      this.logQ.fill(-Math.log(numItems));
      return;
    }
    if (weights.length !== numItems + 1) throw new Error(`NegativeSampler: ${weights.length} weights for ${numItems} items (+ padding)`);
    this.cumulative = new Float64Array(numItems + 1);
    let total = 0;
    for (let i = 1; i <= numItems; i++) { total += Math.max(0, weights[i]); this.cumulative[i] = total; }
    if (!(total > 0)) throw new Error('NegativeSampler: the item weights sum to 0');
    for (let i = 1; i <= numItems; i++) this.logQ[i] = Math.log(Math.max(0, weights[i]) / total);
  }

  sample(count: number, uniform: () => number): Int32Array {
    const out = new Int32Array(count), N = this.numItems, cum = this.cumulative;
    for (let s = 0; s < count; s++) {
      if (!cum) { out[s] = 1 + Math.min(N - 1, Math.floor(uniform() * N)); continue; }
      const target = uniform() * cum[N];
      let lo = 1, hi = N; // the first item whose cumulative weight exceeds target
      while (lo < hi) { const mid = (lo + hi) >> 1; if (cum[mid] > target) hi = mid; else lo = mid + 1; }
      out[s] = lo;
    }
    return out;
  }
}

/**
 * What distillation scores at each target position of a batch on a large catalog, instead of every
 * item: the teacher's top k items at that position, then a shared set (the batch's positives and
 * sampled negatives, a SoftmaxCandidates: its labels feed the CE term). Logits over them are
 * [n, k + m]: row r's columns 0..k-1 are perRow[r k .. r k + k), columns k.. the shared items.
 */
export interface LogitCandidates {
  k: number;
  /** [n * k] item ids, row-major. */
  perRow: Int32Array;
  shared: SoftmaxCandidates;
  /**
   * [n * (k + m)] added to teacher and student logits (at temperature 1; scaled by T for the KL at
   * temperature T) before the KL: 0 for the top-k columns, log(1 / (m q)) for a shared item drawn
   * with probability q out of m draws (the importance weight by which it stands for the items
   * outside the top k), and -1e9 for a shared item that is also in the row's top k (counted once).
   */
  adjust: Float32Array;
}

/**
 * Logits [n, k + m] over a batch's LogitCandidates for hidden states h [n, C] and an output layer
 * with weight [C, V] and bias: the top-k columns one row at a time (linearPicked over each row
 * repeated k times), the shared ones as a block (linearColumns). The catalog tables get slice
 * gradients when they want them (NextItemModel.sparseCatalogGradients): a step costs
 * O(n (k + m) C), not O(n V C).
 */
export function candidateLogits(h: Tensor, weight: Tensor, bias: Tensor | null, c: LogitCandidates): Tensor {
  const [n] = h.shape, k = c.k;
  if (c.perRow.length !== n * k) throw new Error(`candidateLogits: ${c.perRow.length} top-k ids for ${n} rows of ${k}`);
  const parts: Tensor[] = [];
  if (k > 0) {
    const repeat = new Int32Array(n * k);
    for (let r = 0; r < n; r++) repeat.fill(r, r * k, (r + 1) * k);
    parts.push(F.reshape(F.linearPicked(F.embedding(h, tensor(repeat, [n * k], 'int32')), weight, bias, c.perRow), [n, k]));
  }
  if (c.shared.items.length > 0) parts.push(F.linearColumns(h, weight, bias, c.shared.items));
  return parts.length === 1 ? parts[0] : F.concat(parts, 1);
}

/** The logits [n, k + m] over candidates c taken from logits at every item (values of [n, V]). */
export function gatherCandidateLogits(full: ArrayLike<number>, V: number, c: LogitCandidates): Float32Array {
  const k = c.k, items = c.shared.items, m = items.length, W = k + m;
  const n = c.adjust.length / W;
  const out = new Float32Array(n * W);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < k; j++) out[r * W + j] = full[r * V + c.perRow[r * k + j]];
    for (let j = 0; j < m; j++) out[r * W + k + j] = full[r * V + items[j]];
  }
  return out;
}
