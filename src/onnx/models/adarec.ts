// A derived AdaRec student (AdaRecNet with a genotype): item (+ position) embedding, K cells, each
// cell's output an intermediate, as AdaRecNet.signals. The supernet (edges mixed per step) is not
// exported.
import type { AdaRecNet } from '../../models/adarec/network.js';
import type { GraphBuilder } from '../graph.js';
import { emitCell } from '../emit/cell.js';
import { emitAddPositions, emitEmbedding } from '../emit/embedding.js';
import { emitItemMask } from '../emit/mean.js';
import type { Body } from './body.js';

export function emitAdaRec(g: GraphBuilder, model: AdaRecNet, ids: string, T: number): Body {
  if (model.config.genotype === null) throw new Error('ONNX export: this AdaRecNet is a supernet (every operator on every edge); export a derived student');
  const items = emitEmbedding(g, model.itemEmbedding, ids, 'itemEmbedding');
  const embedding = model.positionEmbedding ? emitAddPositions(g, model.positionEmbedding, items, T, 'positionEmbedding') : items;
  const intermediates: string[] = [];
  let x = embedding;
  let keep: string | undefined;
  const keepOf = (): string => (keep ??= emitItemMask(g, ids, 'itemMask'));
  model.cells.forEach((c, k) => intermediates.push((x = emitCell(g, c, x, `cells.${k}`, keepOf))));
  return { embedding, intermediates, hidden: x, output: model.output };
}
