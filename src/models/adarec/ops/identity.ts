// The two free operators: skip (identity) and none (zeros: the edge is dropped).
import type { Tensor } from '../../../engine/index.js';
import { EdgeOp, type OperatorSpec } from './edge-op.js';

class Skip extends EdgeOp {
  forward(x: Tensor): Tensor { return x; }
}

class Zero extends EdgeOp {
  forward(_x: Tensor): null { return null; }
}

export const SKIP: OperatorSpec = Object.freeze({
  name: 'skip', causal: true, kind: 'skip' as const, label: 'skip (identity)',
  macs: () => 0, params: () => 0, build: () => new Skip(),
});

export const NONE: OperatorSpec = Object.freeze({
  name: 'none', causal: true, kind: 'none' as const, label: 'none (zeros)',
  macs: () => 0, params: () => 0, build: () => new Zero(),
});
