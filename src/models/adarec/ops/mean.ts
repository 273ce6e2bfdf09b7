// The running mean: position t's output is the mean of the edge input over every item position of
// the sequence up to t (padding left out). The one operator of the space that looks further back
// than a few positions: the whole history at O(L*C), and one running sum per session when
// streaming. Not in either mode's default set; a search lists it by name (search.operators).
import { F, type Rng, type Tensor } from '../../../engine/index.js';
import { EdgeOp, type EdgeContext, type OperatorSpec } from './edge-op.js';

/** The running mean on one edge (exported: the ONNX exporter and the stream plan recognise it). */
export class RunningMean extends EdgeOp {
  forward(x: Tensor, context?: EdgeContext): Tensor {
    return F.causalMean(x, context?.keep ?? null);
  }
}

export const CAUSAL_MEAN: OperatorSpec = Object.freeze({
  name: 'causal_mean', causal: true, kind: 'mean' as const, label: 'running mean of the history',
  macs: (L: number, C: number) => L * C,
  params: () => 0,
  build: (_C: number, _rng: Rng) => new RunningMean(),
});
