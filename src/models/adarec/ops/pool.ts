// Pooling operators with stride 1 and the same length: causal ones reduce the current and the
// k-1 previous positions, centred ones (paper mode) (k-1)/2 on each side.
import { F, type Rng, type Tensor } from '../../../engine/index.js';
import { EdgeOp, type OperatorSpec } from './edge-op.js';

/** pool MACs = L*C (METHOD.md). */
export function poolMacs(L: number, C: number): number { return L * C; }

/** A pool on one edge (exported: the ONNX exporter reads its window). */
export class Pool extends EdgeOp {
  constructor(readonly mode: 'max' | 'avg', readonly before: number, readonly after: number) {
    super();
  }

  forward(x: Tensor): Tensor {
    return F.pool1d(x, this.mode, this.before, this.after);
  }
}

export function poolOp(o: { name: string; pool: 'max' | 'avg'; kernelSize: number; causal: boolean; label?: string }): OperatorSpec {
  const { name, pool, kernelSize: k, causal } = o;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`pool op ${name}: window ${k} must be an integer >= 1`);
  if (!causal && k % 2 === 0) throw new RangeError(`pool op ${name}: a centred pool needs an odd window (got ${k})`);
  const label = o.label ?? `${causal ? 'causal' : 'centred'} ${pool} pool ${k}`;
  const before = causal ? k - 1 : (k - 1) / 2, after = causal ? 0 : (k - 1) / 2;
  return Object.freeze({
    name, causal, kind: 'pool' as const, kernelSize: k, pool, label,
    macs: (L: number, C: number) => poolMacs(L, C),
    params: (_C: number) => 0,
    build: (_C: number, _rng: Rng) => new Pool(pool, before, after),
  });
}
