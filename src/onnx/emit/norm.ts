// nn.LayerNorm (LayerNormalization over the last axis, an optional fused ReLU as ours) and
// eval-mode nn.BatchNorm1d (BatchNormalization with the running statistics, channels-first input).
import type { nn } from '../../engine/index.js';
import type { GraphBuilder } from '../graph.js';
import { float, int } from '../graph.js';

export function emitLayerNorm(g: GraphBuilder, m: nn.LayerNorm, x: string, scope: string, relu = false): string {
  const y = g.op(scope, 'LayerNormalization', [x, g.tensor(`${scope}.weight`, m.gamma), g.tensor(`${scope}.bias`, m.beta)],
    { axis: int(-1), epsilon: float(m.eps) });
  return relu ? g.op(scope, 'Relu', [y]) : y;
}

/** BatchNorm1d in eval mode over x [B, C, T] (channels first). */
export function emitBatchNorm(g: GraphBuilder, m: nn.BatchNorm1d, x: string, scope: string): string {
  return g.op(scope, 'BatchNormalization', [
    x, g.tensor(`${scope}.weight`, m.gamma), g.tensor(`${scope}.bias`, m.beta),
    g.tensor(`${scope}.running_mean`, m.runningMean), g.tensor(`${scope}.running_var`, m.runningVar),
  ], { epsilon: float(m.eps) });
}
