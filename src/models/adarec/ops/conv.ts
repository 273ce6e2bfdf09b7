// Convolution operators: a 1-D convolution over time (C -> C, bias) followed by batch norm, as the
// reference's. Causal ones see positions t, t-d, ..., t-(k-1)d; centred ones ("std"/"dilated" in
// paper mode) see (k-1)/2 dilated taps on each side, future positions included.
import { F, Rng, Tensor, nn, zeros } from '../../../engine/index.js';
import { EdgeOp, type OperatorSpec } from './edge-op.js';

/** conv MACs = L*C*C*k + L*C + 2*L*C (METHOD.md: taps, bias, batch norm scale and shift). */
export function convMacs(L: number, C: number, k: number): number { return L * C * C * k + L * C + 2 * L * C; }
/** conv params = C*C*k + 3C (weights, bias, batch-norm scale and shift). */
export function convParams(C: number, k: number): number { return C * C * k + 3 * C; }

/** Conv + BatchNorm on one edge (exported for the ONNX exporter, which reads its modules). */
export class ConvBn extends EdgeOp {
  readonly conv: nn.CausalConv1d;
  readonly bn: nn.BatchNorm1d;
  /** Positions the output is shifted back by: 0 for causal, (k-1)/2*d for centred. */
  readonly lookahead: number;

  constructor(C: number, k: number, dilation: number, causal: boolean, rng: Rng) {
    super();
    this.conv = this.child('conv', new nn.CausalConv1d(C, C, k, dilation, rng));
    this.bn = this.child('bn', new nn.BatchNorm1d(C));
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
    return this.bn.forward(y);
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
    build: (C: number, rng: Rng) => new ConvBn(C, k, dilation, causal, rng),
  });
}
