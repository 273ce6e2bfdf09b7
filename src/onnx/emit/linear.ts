// nn.Linear: y = x W + b, W [in, out] as ours (MatMul broadcasts over the leading axes).
import type { nn } from '../../engine/index.js';
import type { GraphBuilder } from '../graph.js';

export function emitLinear(g: GraphBuilder, m: nn.Linear, x: string, scope: string): string {
  const y = g.op(scope, 'MatMul', [x, g.tensor(`${scope}.weight`, m.weight)]);
  return m.bias ? g.op(scope, 'Add', [y, g.tensor(`${scope}.bias`, m.bias)]) : y;
}
