// Is model A really better than model B on these examples? A paired bootstrap over examples: both
// models were ranked on the same users, so the per-user differences are resampled together and the
// spread of their mean gives a confidence interval (percentile method). With a few hundred users
// one hit moves HR by 1/n, so a difference whose interval straddles 0 is noise, not a win.
import { Rng } from '../engine/random.js';
import { metricsAt, parseMetric } from './metrics.js';

export interface PairedDifference {
  /** e.g. 'ndcg@10' */
  metric: string;
  /** mean(A) - mean(B) on the examples themselves */
  difference: number;
  /** percentile interval of the resampled mean difference */
  low: number;
  high: number;
  /** share of resamples in which A's mean is strictly above B's */
  aAhead: number;
}

export interface BootstrapOptions {
  resamples?: number;
  /** two-sided coverage, e.g. 0.95 */
  confidence?: number;
  seed?: number;
}

/** Per-example values of a metric like 'ndcg@10' from 0-based target ranks. */
export function perExample(ranks: ArrayLike<number>, metric: string): Float64Array {
  const { measure, k } = parseMetric(metric);
  return Float64Array.from({ length: ranks.length }, (_, i) => metricsAt(ranks[i], k)[measure]);
}

/** Per-example values of a metric averaged over several rankings of the same examples (e.g. seeds). */
export function meanPerExample(rankings: readonly ArrayLike<number>[], metric: string): Float64Array {
  if (rankings.length === 0) throw new RangeError('no rankings to average');
  const out = new Float64Array(rankings[0].length);
  for (const ranks of rankings) {
    if (ranks.length !== out.length) throw new RangeError(`rankings of different examples: ${out.length} vs ${ranks.length}`);
    perExample(ranks, metric).forEach((v, i) => { out[i] += v / rankings.length; });
  }
  return out;
}

/**
 * Paired bootstrap of mean(a) - mean(b), where a[i] and b[i] are one metric of two models on the
 * same example i (from perExample or meanPerExample).
 */
export function pairedBootstrap(a: ArrayLike<number>, b: ArrayLike<number>, metric: string,
  o: BootstrapOptions = {}): PairedDifference {
  const n = a.length, resamples = o.resamples ?? 2000, confidence = o.confidence ?? 0.95;
  if (b.length !== n) throw new RangeError(`paired comparison needs the same examples: ${n} vs ${b.length}`);
  if (n === 0) throw new RangeError('paired comparison of zero examples');
  if (!(Number.isInteger(resamples) && resamples >= 1)) throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const d = Float64Array.from({ length: n }, (_, i) => a[i] - b[i]);
  const rng = new Rng(o.seed ?? 1);
  const means = new Float64Array(resamples);
  let ahead = 0;
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += d[rng.int(n)];
    means[r] = sum / n;
    if (means[r] > 0) ahead++;
  }
  means.sort();
  const tail = (1 - confidence) / 2;
  // nearest-rank percentiles of the sorted resampled means
  const at = (q: number): number => means[Math.min(resamples - 1, Math.max(0, Math.ceil(q * resamples) - 1))];
  return { metric, difference: d.reduce((s, v) => s + v, 0) / n, low: at(tail), high: at(1 - tail), aAhead: ahead / resamples };
}

/** '+0.0123 [-0.0040, +0.0290]' */
export function formatDifference(p: PairedDifference, digits = 4): string {
  const f = (v: number): string => (v >= 0 ? '+' : '') + v.toFixed(digits);
  return `${f(p.difference)} [${f(p.low)}, ${f(p.high)}]`;
}
