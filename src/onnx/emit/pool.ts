// Stride-1 pools over time (F.pool1d): a window of `before` earlier and `after` later positions,
// clipped at the sequence ends, so MaxPool pads with -inf and AveragePool divides by the positions
// inside (count_include_pad 0).
import type { GraphBuilder } from '../graph.js';
import { int, ints } from '../graph.js';
import { swapTimeChannels } from './layout.js';

export function emitPool1d(g: GraphBuilder, x: string, mode: 'max' | 'avg', before: number, after: number, scope: string): string {
  const attrs = { kernel_shape: ints([before + after + 1]), pads: ints([before, after]), strides: ints([1]) };
  const y = mode === 'max'
    ? g.op(scope, 'MaxPool', [swapTimeChannels(g, x, scope)], attrs)
    : g.op(scope, 'AveragePool', [swapTimeChannels(g, x, scope)], { ...attrs, count_include_pad: int(0) });
  return swapTimeChannels(g, y, scope);
}
