// How far could the mean over a few training seeds be from the mean over many? The Student-t 95%
// interval of a mean: mean ± t(0.975, n - 1) · sd / sqrt(n). With two or three seeds t is large
// (12.7, 4.3), and the interval says honestly how little a couple of seeds pin down.

/** t(0.975, df) for df = 1..30 (standard tables, 3 decimals). */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042] as const;

/**
 * The 0.975 quantile of Student's t with `df` degrees of freedom: the table up to 30, beyond it the
 * Cornish-Fisher expansion around the normal quantile (within 1e-3 of the exact value there).
 */
export function tQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`tQuantile975: degrees of freedom must be a positive integer, got ${df}`);
  if (df <= T975.length) return T975[df - 1];
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2);
}

export interface MeanInterval {
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1); undefined for one value. */
  sd?: number;
  /** The 95% interval of the mean; undefined for one value (no spread to estimate). */
  low?: number;
  high?: number;
}

/** The mean of `xs` and, for two or more values, its Student-t 95% interval. */
export function meanInterval95(xs: readonly number[]): MeanInterval {
  const n = xs.length;
  if (n === 0) throw new RangeError('meanInterval95: no values');
  for (const x of xs) if (!Number.isFinite(x)) throw new RangeError(`meanInterval95: non-finite value ${x}`);
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { n, mean };
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const half = tQuantile975(n - 1) * sd / Math.sqrt(n);
  return { n, mean, sd, low: mean - half, high: mean + half };
}
