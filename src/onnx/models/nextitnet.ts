// NextItNet: embedding, residual blocks (conv -> LayerNorm+ReLU, twice; x + eps * branch), every
// second block's output an intermediate, as NextItNet.signals.
import type { NextItNet } from '../../models/nextitnet.js';
import type { GraphBuilder } from '../graph.js';
import { emitConv1d } from '../emit/conv.js';
import { emitEmbedding } from '../emit/embedding.js';
import { emitLayerNorm } from '../emit/norm.js';
import type { Body } from './body.js';

export function emitNextItNet(g: GraphBuilder, model: NextItNet, ids: string): Body {
  const embedding = emitEmbedding(g, model.embedding, ids, 'embedding');
  const intermediates: string[] = [];
  let x = embedding;
  model.blocks.forEach((b, i) => {
    const s = `blocks.${i}`;
    let h = emitLayerNorm(g, b.ln1, emitConv1d(g, b.conv1, x, `${s}.conv1`), `${s}.ln1`, true);
    h = emitLayerNorm(g, b.ln2, emitConv1d(g, b.conv2, h, `${s}.conv2`), `${s}.ln2`, true);
    if (b.eps) h = g.op(s, 'Mul', [h, g.tensor(`${s}.eps`, b.eps, [])]);
    x = g.op(s, 'Add', [x, h]);
    if (i % 2 === 1) intermediates.push(x);
  });
  return { embedding, intermediates, hidden: x, output: model.output };
}
