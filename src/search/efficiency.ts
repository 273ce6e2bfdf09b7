// The efficiency term's price of each operator (METHOD.md "Search", L_E), computed from the
// operators' MAC and parameter counts, never from a table.
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
