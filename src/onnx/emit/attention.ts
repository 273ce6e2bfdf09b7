// nn.MultiHeadAttention as MatMul/Softmax nodes with our kernel's masking: a key is visible when
// it is not padding (and, causally, not after the query); invisible scores get -1e9 before the
// softmax and the probabilities are multiplied by the visibility, so a query with no visible key
// outputs 0 as ours (instead of a softmax over nothing).
import type { nn } from '../../engine/index.js';
import type { GraphBuilder } from '../graph.js';
import { elemType, int, ints } from '../graph.js';
import { emitLinear } from './linear.js';

export interface AttentionMask {
  /** 1 where the key is visible: [B, 1, 1, T] (bidirectional) or [B, 1, T, T] (causal). */
  visible: string;
  /** (visible - 1) * 1e9, added to the scores. */
  penalty: string;
}

/** The mask of int64 ids [B, T] (0 = padding) at a fixed length T. */
export function emitAttentionMask(g: GraphBuilder, ids: string, T: number, causal: boolean, scope: string): AttentionMask {
  const zero = g.int64(`${scope}.zero`, [0], []);
  const keep = g.op(scope, 'Cast', [g.op(scope, 'Not', [g.op(scope, 'Equal', [ids, zero])])], { to: elemType('float') });
  let visible = g.op(scope, 'Unsqueeze', [keep, g.int64(`${scope}.axes`, [1, 2])]);
  if (causal) {
    const tril = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = 0; j <= i; j++) tril[i * T + j] = 1;
    visible = g.op(scope, 'Mul', [visible, g.weight(`${scope}.causal`, tril, [T, T])]);
  }
  const penalty = g.op(scope, 'Mul', [g.op(scope, 'Sub', [visible, g.weight(`${scope}.one`, [1], [])]), g.weight(`${scope}.big`, [1e9], [])]);
  return { visible, penalty };
}

/** Self-attention of x [B, T, E] under `mask` -> [B, T, E]. */
export function emitAttention(g: GraphBuilder, m: nn.MultiHeadAttention, x: string, mask: AttentionMask, scope: string): string {
  const H = m.heads, Dh = m.dim / H;
  const split = g.int64(`${scope}.split_shape`, [0, 0, H, Dh]);
  const heads = (lin: nn.Linear, name: string, perm: number[]): string =>
    g.op(scope, 'Transpose', [g.op(scope, 'Reshape', [emitLinear(g, lin, x, `${scope}.${name}`), split])], { perm: ints(perm) });
  const q = heads(m.q, 'q', [0, 2, 1, 3]), k = heads(m.k, 'k', [0, 2, 3, 1]), v = heads(m.v, 'v', [0, 2, 1, 3]);
  const scores = g.op(scope, 'Mul', [g.op(scope, 'MatMul', [q, k]), g.weight(`${scope}.scale`, [1 / Math.sqrt(Dh)], [])]);
  const probs = g.op(scope, 'Mul', [g.op(scope, 'Softmax', [g.op(scope, 'Add', [scores, mask.penalty])], { axis: int(-1) }), mask.visible]);
  const merged = g.op(scope, 'Transpose', [g.op(scope, 'MatMul', [probs, v])], { perm: ints([0, 2, 1, 3]) });
  const out = g.op(scope, 'Reshape', [merged, g.int64(`${scope}.merge_shape`, [0, 0, m.dim])]);
  return emitLinear(g, m.out, out, `${scope}.out`);
}
