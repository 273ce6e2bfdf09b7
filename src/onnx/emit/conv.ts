// nn.CausalConv1d as an ONNX Conv over channels-first input: our tap-major weight [k*C, O] becomes
// [O, C, k], and the causal left padding (k-1)*d becomes pads [(k-1)*d - lookahead, lookahead]
// (lookahead > 0: the centred conv read that many positions later). An optional BatchNorm1d runs
// before the layout goes back to [B, T, C], an optional LayerNorm (over channels) after.
import type { nn } from '../../engine/index.js';
import type { GraphBuilder } from '../graph.js';
import { int, ints } from '../graph.js';
import { swapTimeChannels } from './layout.js';
import { emitBatchNorm, emitLayerNorm } from './norm.js';

/** Our [k*C, O] weight as ONNX's [O, C, k]. */
function convWeight(conv: nn.CausalConv1d): Float32Array {
  const { kernelSize: k, inChannels: C, outChannels: O } = conv;
  const w = conv.weight.values, out = new Float32Array(O * C * k);
  for (let j = 0; j < k; j++) for (let c = 0; c < C; c++) for (let o = 0; o < O; o++) out[(o * C + c) * k + j] = w[(j * C + c) * O + o];
  return out;
}

export interface ConvOptions {
  /** Output positions shifted back (0: causal). */
  lookahead?: number;
  /** A BatchNorm1d applied to the conv output, and its scope. */
  batchNorm?: { module: nn.BatchNorm1d; scope: string };
  /** A LayerNorm over the channels of each output position, and its scope. */
  layerNorm?: { module: nn.LayerNorm; scope: string };
}

/** Conv over x [B, T, C] -> [B, T, O]. */
export function emitConv1d(g: GraphBuilder, conv: nn.CausalConv1d, x: string, scope: string, o: ConvOptions = {}): string {
  const { kernelSize: k, dilation: d, inChannels: C, outChannels: O } = conv;
  const ahead = o.lookahead ?? 0;
  const inputs = [swapTimeChannels(g, x, scope), g.weight(`${scope}.weight`, convWeight(conv), [O, C, k])];
  if (conv.bias) inputs.push(g.tensor(`${scope}.bias`, conv.bias));
  let y = g.op(scope, 'Conv', inputs, {
    kernel_shape: ints([k]), dilations: ints([d]), strides: ints([1]), pads: ints([(k - 1) * d - ahead, ahead]), group: int(1),
  });
  if (o.batchNorm) y = emitBatchNorm(g, o.batchNorm.module, y, o.batchNorm.scope);
  const out = swapTimeChannels(g, y, scope);
  return o.layerNorm ? emitLayerNorm(g, o.layerNorm.module, out, o.layerNorm.scope) : out;
}
