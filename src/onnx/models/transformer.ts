// SASRec and BERT4Rec (causal, its finetuned mode): item + position embedding, pre-LayerNorm
// blocks with learned residual scales, every block's output an intermediate, a final LayerNorm,
// as TransformerRecommender.signals.
import type { TransformerRecommender } from '../../models/transformer-recommender.js';
import type { GraphBuilder } from '../graph.js';
import { emitAttention, emitAttentionMask } from '../emit/attention.js';
import { emitAddPositions, emitEmbedding } from '../emit/embedding.js';
import { emitLinear } from '../emit/linear.js';
import { emitLayerNorm } from '../emit/norm.js';
import type { Body } from './body.js';

export function emitTransformer(g: GraphBuilder, model: TransformerRecommender, ids: string, T: number): Body {
  const embedding = emitAddPositions(g, model.positionEmbedding, emitEmbedding(g, model.itemEmbedding, ids, 'itemEmbedding'), T, 'positionEmbedding');
  const mask = emitAttentionMask(g, ids, T, true, 'mask');
  const intermediates: string[] = [];
  let x = embedding;
  model.blocks.forEach((b, i) => {
    const s = `blocks.${i}`;
    let a = emitAttention(g, b.attention, emitLayerNorm(g, b.ln1, x, `${s}.ln1`), mask, `${s}.attention`);
    if (b.scaleAttention) a = g.op(s, 'Mul', [a, g.tensor(`${s}.scaleAttention`, b.scaleAttention, [])]);
    x = g.op(s, 'Add', [x, a]);
    const inner = g.op(s, 'Relu', [emitLinear(g, b.ffnIn, emitLayerNorm(g, b.ln2, x, `${s}.ln2`), `${s}.ffnIn`)]);
    let h = emitLinear(g, b.ffnOut, inner, `${s}.ffnOut`);
    if (b.scaleFfn) h = g.op(s, 'Mul', [h, g.tensor(`${s}.scaleFfn`, b.scaleFfn, [])]);
    x = g.op(s, 'Add', [x, h]);
    intermediates.push(x);
  });
  return { embedding, intermediates, hidden: emitLayerNorm(g, model.finalNorm, x, 'finalNorm'), output: model.output };
}
