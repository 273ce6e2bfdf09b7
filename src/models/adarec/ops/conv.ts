// Convolution operators: a 1-D convolution over time (C -> C, bias) followed by a normalisation.
// Causal convs see positions t, t-d, ..., t-(k-1)d; centred ones ("std"/"dilated" in paper mode)
// see (k-1)/2 dilated taps on each side, future positions included.
//
// The normalisation is the network's `convNorm`:
// - 'batch' (METHOD.md, the reference; what an absent option means): BatchNorm1d. In training mode
//   its statistics are taken over batch x time, so a position's output depends on the later
//   positions of its own sequence and of every other sequence in the batch, padding included: the
//   conv is causal, the op is not (in eval mode the running statistics make it causal again).
// - 'layer': LayerNorm over the channels of each position: causal in training and eval alike.
// - 'none': the conv alone.
// Batch statistics over real (non-padding) positions only would still mix in the later positions
// of the other sequences, so they are not offered: they would not make the op causal.
import { F, Rng, Tensor, nn, zeros } from '../../../engine/index.js';
import { EdgeOp, type BuildOptions, type ConvNorm, type OperatorSpec } from './edge-op.js';

/**
 * conv MACs = L*C*C*k + L*C + 2*L*C (METHOD.md: taps, bias, batch norm scale and shift). The same
 * count is used whatever the network's convNorm: LayerNorm's scale and shift are counted as batch
 * norm's (its per-position statistics are not), and 'none' is not credited its 2*L*C; either is
 * under 1% of a conv at METHOD.md's sizes.
 */
export function convMacs(L: number, C: number, k: number): number { return L * C * C * k + L * C + 2 * L * C; }
/** conv params = C*C*k + 3C (weights, bias, norm scale and shift: batch or layer norm alike; 'none' has C*C*k + C). */
export function convParams(C: number, k: number): number { return C * C * k + 3 * C; }

/** LayerNorm epsilon of convNorm 'layer' (PyTorch's default, as BatchNorm1d's). */
export const CONV_LAYER_NORM_EPS = 1e-5;

/**
 * Conv + its normalisation on one edge (exported for the ONNX exporter and per-event streaming,
 * which read its modules). Parameter names: conv.*, then bn.* (batch) or ln.* (layer), so a
 * batch-norm checkpoint written before convNorm existed loads unchanged, and a checkpoint of one
 * norm never fills a network of another silently.
 */
export class ConvNormOp extends EdgeOp {
  readonly conv: nn.CausalConv1d;
  /** The BatchNorm1d of convNorm 'batch', else null. */
  readonly bn: nn.BatchNorm1d | null;
  /** The LayerNorm of convNorm 'layer', else null. */
  readonly ln: nn.LayerNorm | null;
  readonly norm: ConvNorm;
  /** Positions the output is shifted back by: 0 for causal, (k-1)/2*d for centred. */
  readonly lookahead: number;

  constructor(C: number, k: number, dilation: number, causal: boolean, rng: Rng, norm: ConvNorm = 'batch') {
    super();
    this.conv = this.child('conv', new nn.CausalConv1d(C, C, k, dilation, rng));
    this.norm = norm;
    this.bn = norm === 'batch' ? this.child('bn', new nn.BatchNorm1d(C)) : null;
    this.ln = norm === 'layer' ? this.child('ln', new nn.LayerNorm(C, CONV_LAYER_NORM_EPS)) : null;
    this.lookahead = causal ? 0 : ((k - 1) / 2) * dilation;
  }

  forward(x: Tensor): Tensor {
    let y: Tensor;
    if (this.lookahead === 0) {
      y = this.conv.forward(x);
    } else {
      // a centred conv is the causal one read `lookahead` positions later, over right-padded input
      const [B, T, C] = x.shape;
      const s = this.lookahead;
      y = F.contiguous(F.narrow(this.conv.forward(F.concat([x, zeros([B, s, C], x.dtype)], 1)), 1, s, T));
    }
    if (this.bn) return this.bn.forward(y);
    if (this.ln) return this.ln.forward(y);
    return y;
  }
}

export function convOp(o: { name: string; kernelSize: number; dilation: number; causal: boolean; label?: string }): OperatorSpec {
  const { name, kernelSize: k, dilation, causal } = o;
  if (!Number.isInteger(k) || k < 1 || !Number.isInteger(dilation) || dilation < 1) throw new RangeError(`conv op ${name}: kernel ${k} / dilation ${dilation} must be integers >= 1`);
  if (!causal && k % 2 === 0) throw new RangeError(`conv op ${name}: a centred conv needs an odd kernel (got ${k})`);
  const label = o.label ?? `${causal ? 'causal ' : ''}${dilation > 1 ? 'dilated ' : ''}conv k${k}${dilation > 1 ? ` d${dilation}` : ''}`;
  return Object.freeze({
    name, causal, kind: 'conv' as const, kernelSize: k, dilation, label,
    macs: (L: number, C: number) => convMacs(L, C, k),
    params: (C: number) => convParams(C, k),
    build: (C: number, rng: Rng, b: BuildOptions = {}) => new ConvNormOp(C, k, dilation, causal, rng, b.convNorm ?? 'batch'),
  });
}
