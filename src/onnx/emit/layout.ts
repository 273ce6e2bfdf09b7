// Layout changes between our [B, T, C] activations and ONNX's channels-first [B, C, T] that
// Conv, BatchNormalization and the pools expect.
import type { GraphBuilder } from '../graph.js';
import { ints } from '../graph.js';

/** [B, T, C] <-> [B, C, T] (the same permutation both ways). */
export function swapTimeChannels(g: GraphBuilder, x: string, scope: string): string {
  return g.op(scope, 'Transpose', [x], { perm: ints([0, 2, 1]) });
}
