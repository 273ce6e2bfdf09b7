// nn.Embedding as a Gather of table rows, and the learned position embedding added to it (the
// input length is fixed at export, so the first T rows are one [T, C] initializer).
import type { nn } from '../../engine/index.js';
import type { GraphBuilder } from '../graph.js';
import { int } from '../graph.js';

/** table[ids]: [B, T] ids -> [B, T, C]. */
export function emitEmbedding(g: GraphBuilder, m: nn.Embedding, ids: string, scope: string): string {
  return g.op(scope, 'Gather', [g.tensor(`${scope}.weight`, m.weight), ids], { axis: int(0) });
}

/** x + positions[0..T-1] for x [B, T, C]. */
export function emitAddPositions(g: GraphBuilder, m: nn.Embedding, x: string, T: number, scope: string): string {
  if (T > m.count) throw new Error(`ONNX export: length ${T} exceeds the position embedding's ${m.count} rows`);
  const rows = g.weight(`${scope}.weight[0:${T}]`, m.weight.values.subarray(0, T * m.dim), [T, m.dim]);
  return g.op(scope, 'Add', [x, rows]);
}
