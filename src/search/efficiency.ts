// The efficiency term (METHOD.md "Search", L_E). Priced by MACs (METHOD.md): each operator's cost
// computed from its MAC and parameter counts, never from a table, and L_E = sum over edges of the
// sampled one-hot . cost. Priced by latency (search config cost 'latency', search/latency.ts): the
// operators' measured milliseconds on the serving machine, and L_E the hinge on the expected
// latency above the budget, below.
import { F, type Tensor } from '../engine/index.js';
import type { OperatorSpec } from '../models/adarec/index.js';

function softmax(x: readonly number[]): number[] {
  const max = Math.max(...x);
  const e = x.map((v) => Math.exp(v - max));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

/**
 * The efficiency-loss cost of each operator (METHOD.md):
 *   cost_o = 5 * (softmax_o(MACs_o / 1e6) + softmax_o(params_o / 1e6)),
 * the softmax taken over the given operator set, each count for one application at length L and
 * C channels, a zero count replaced by 1 before scaling. The reference settings (paper ops,
 * L = 100, C = 128) give conv k3 0.5653, conv k5 2.1270, pools and skip/none 0.48075.
 */
export function opCosts(ops: readonly OperatorSpec[], L = 100, C = 128): Float64Array {
  if (ops.length === 0) throw new RangeError('opCosts: empty operator set');
  const count = (x: number, what: string, op: OperatorSpec): number => {
    if (!Number.isFinite(x) || x < 0) throw new RangeError(`operator ${op.name}: ${what} = ${x}`);
    return (x === 0 ? 1 : x) / 1e6;
  };
  const m = softmax(ops.map((op) => count(op.macs(L, C), 'MACs', op)));
  const p = softmax(ops.map((op) => count(op.params(C), 'params', op)));
  return Float64Array.from(ops.map((_, o) => 5 * (m[o] + p[o])));
}

/**
 * Expected serving latency (ms) of a student under the architecture distribution softmax(alpha)
 * (rows independent, as the Gumbel samples are): fixedMs + rowFactor * sum_r sum_o p_ro price_o,
 * `prices` [O] the operators' milliseconds at the crop being priced, rowFactor the cells an alpha
 * row stands for (all K when shared, 1 per cell). Linear in p, so it is exactly the mean of the
 * sampled students' latencies at that crop.
 */
export function expectedLatency(alpha: Tensor, prices: Tensor, fixedMs: number, rowFactor: number): Tensor {
  return F.addScalar(F.mulScalar(F.sum(F.mul(F.softmax(alpha), prices)), rowFactor), fixedMs);
}

/**
 * The latency term: max(0, expected / budget - 1), the expected latency's excess over the budget
 * as a fraction of it. Zero gradient within the budget (a student that fits is not pushed to be
 * faster at the expense of accuracy), a constant pull above it; unit-free, so beta means the
 * same for any budget.
 */
export function latencyHinge(expected: Tensor, budgetMs: number): Tensor {
  if (!(budgetMs > 0)) throw new RangeError(`latency budget must be > 0 ms, got ${budgetMs}`);
  return F.relu(F.addScalar(F.mulScalar(expected, 1 / budgetMs), -1));
}
