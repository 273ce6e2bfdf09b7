// Sampled losses for large catalogs: the loss of a batch over a few items instead of the whole
// catalog, so that the output layer and the loss cost O(candidates), not O(items).
// - Sampled softmax: a shared candidate set (the batch's own positives, then sampled negatives).
//   Candidates drawn with probability q get the logQ correction (their logit minus log q: Bengio &
//   Senecal 2008, Yi et al. RecSys 2019), which keeps the estimate of the full softmax unbiased in
//   expectation for popularity-biased draws.
// - gBCE (gSASRec, Petrov & Macdonald, RecSys 2023): binary cross-entropy of each positive against
//   k uniformly sampled negatives (shared by the batch), the positive's probability raised to beta
//   so that the sigmoid of a score stays calibrated despite the sampling (gbceBeta).

/** The candidates of one batch's sampled softmax and each target's column among them. */
export interface SoftmaxCandidates {
  kind: 'softmax';
  /** Item ids (model ids, >= 1): every distinct positive of the batch first, then the negatives. */
  items: Int32Array;
  /** Per target position (in the order of the positions with a target), its column in `items`. */
  labels: Int32Array;
  /** Subtracted from each candidate's logit (log q), or null for none. */
  correction: Float32Array | null;
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
 * other rows' in-batch negatives), then the sampled negatives that are not positives. `logQ[item]`, when given, is the log-probability with which an item enters the set.
 */
export function sampledCandidates(positives: Int32Array, negatives: Int32Array, logQ: Float64Array | null): SoftmaxCandidates {
  const column = new Map<number, number>();
  const items: number[] = [];
  const labels = new Int32Array(positives.length);
  positives.forEach((p, i) => {
    let c = column.get(p);
    if (c === undefined) { c = items.length; column.set(p, c); items.push(p); }
    labels[i] = c;
  });
  for (const n of negatives) if (!column.has(n)) { column.set(n, items.length); items.push(n); }
  const out = Int32Array.from(items);
  return { kind: 'softmax', items: out, labels, correction: logQ ? Float32Array.from(out, (i) => logQ[i]) : null };
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
