// The running mean over the items of the window (RunningMean, F.causalMean): a prefix sum of the
// input at items over a prefix count of items (at least 1: before the first item both are 0).
import type { GraphBuilder } from '../graph.js';
import { elemType } from '../graph.js';

/** keep [B, T, 1]: 1 where int64 ids [B, T] hold an item, 0 at padding (id 0). */
export function emitItemMask(g: GraphBuilder, ids: string, scope: string): string {
  const isPad = g.op(scope, 'Equal', [ids, g.int64(`${scope}.zero`, [0], [])]);
  const keep = g.op(scope, 'Cast', [g.op(scope, 'Not', [isPad])], { to: elemType('float') });
  return g.op(scope, 'Unsqueeze', [keep, g.int64(`${scope}.axes`, [2])]);
}

export function emitRunningMean(g: GraphBuilder, x: string, keep: string, scope: string): string {
  const time = g.int64(`${scope}.axis`, [1], []);
  const sum = g.op(scope, 'CumSum', [g.op(scope, 'Mul', [x, keep]), time]);
  const count = g.op(scope, 'Max', [g.op(scope, 'CumSum', [keep, time]), g.weight(`${scope}.one`, [1], [])]);
  return g.op(scope, 'Div', [sum, count]);
}
