// Sampling one operator per edge: straight-through hard Gumbel-softmax over the architecture
// weights alpha (METHOD.md "Search"). The supernet mixes an edge's operator outputs with the
// sampled weights in models/adarec/mix-edge.ts, which hands alpha its gradient.
//
// Forward: index_e = argmax_o(alpha_eo + g_eo), g ~ Gumbel(0, 1); the edge weights are the one-hot
// of index_e. Backward (straight-through): the gradient that reaches the one-hot passes unchanged
// to soft = softmax((alpha + g) / tau), and from there to alpha. (softmax of log_softmax(alpha) + g
// equals softmax(alpha + g): the row constant cancels.)
import { record } from '../engine/autograd.js';
import { F, Rng, Tensor, empty, tensor, type FloatArray } from '../engine/index.js';

/** tau_e = tau0 * decay^floor(epochIndex / every) (METHOD.md: tau0 1, decay 0.8, every 5). */
export function temperatureAt(epochIndex: number, tau0 = 1, decay = 0.8, every = 5): number {
  return tau0 * decay ** Math.floor(epochIndex / every);
}

export interface EdgeSample {
  /** The sampled operator (column) of each row of alpha. */
  index: Int32Array;
  /** [rows, ops]: one-hot values; gradients flow to the Gumbel-softmax of alpha. */
  weights: Tensor;
}

/** The column of the largest entry of each row of a [rows, cols] row-major matrix (first on ties). */
export function argmaxRows(m: ArrayLike<number>, cols: number): Int32Array {
  const rows = m.length / cols, out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (m[r * cols + c] > m[r * cols + best]) best = c;
    out[r] = best;
  }
  return out;
}

/** One straight-through hard Gumbel-softmax sample per row of alpha [rows, ops]. */
export function sampleEdges(alpha: Tensor, tau: number, rng: Rng): EdgeSample {
  const [R, O] = alpha.shape;
  const g = new Float64Array(R * O);
  for (let i = 0; i < g.length; i++) g[i] = rng.gumbel();
  const av = alpha.values;
  const index = argmaxRows(g.map((x, i) => x + av[i]), O);
  const soft = F.softmax(F.mulScalar(F.add(alpha, tensor(g, [R, O], alpha.dtype)), 1 / tau));
  return { index, weights: straightThrough(soft, index) };
}

/** The one-hot rows of `index`, with the gradient passed through to `soft` unchanged. */
export function straightThrough(soft: Tensor, index: Int32Array): Tensor {
  const [R, O] = soft.shape;
  const out = empty([R, O], soft.dtype);
  const ov = out.values as FloatArray;
  ov.fill(0);
  for (let r = 0; r < R; r++) ov[r * O + index[r]] = 1;
  return record('straightThrough', out, [soft], (g) => [g]);
}

/** Fixed one-hot weights (no gradient): the argmax genotype, e.g. for validation. */
export function oneHot(index: Int32Array, ops: number, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  const out = empty([index.length, ops], dtype);
  const ov = out.values as FloatArray;
  ov.fill(0);
  index.forEach((o, r) => { ov[r * ops + o] = 1; });
  return out;
}
