// The receptive field of a causal convolutional model: how many of a window's last positions its
// last-position output depends on. A causal conv of kernel k and dilation d looks (k-1)*d
// positions back, a causal pool k-1, skip and none 0; a NextItNet block chains two convs, an
// AdaRec cell the longest path through its edges. Null when the model is not such a stack
// (attention, a supernet, an operator that looks ahead).
import { NextItNet } from '../models/nextitnet.js';
import type { SequentialRecommender } from '../models/types.js';
import type { Cell } from '../models/adarec/cell.js';
import { AdaRecNet } from '../models/adarec/network.js';
import type { OperatorSpec } from '../models/adarec/ops/edge-op.js';

/** Positions before t that an operator's output at t reads, or null when it reads later ones. */
export function operatorSpan(spec: OperatorSpec): number | null {
  if (!spec.causal) return null;
  if (spec.kind === 'conv') return (spec.kernelSize! - 1) * spec.dilation!;
  if (spec.kind === 'pool') return spec.kernelSize! - 1;
  return 0;
}

/** Positions before t that a student cell's output at t reads (its longest path), or null. */
export function cellSpan(cell: Cell): number | null {
  const node: number[] = [0];
  let e = 0;
  for (let to = 1; to <= cell.nodes; to++) {
    let span = 0;
    for (let from = 0; from < to; from++, e++) {
      const chosen = cell.chosen(e);
      if (!chosen) continue;
      const s = operatorSpan(chosen.spec);
      if (s === null) return null;
      span = Math.max(span, node[from] + s);
    }
    node.push(span);
  }
  return Math.max(...node);
}

/**
 * R such that the last-position output of a window depends only on its last R positions (R = 1
 * for a model without any look-back), or null when the model is not a causal conv/pool stack.
 */
export function receptiveField(model: SequentialRecommender): number | null {
  if (model instanceof NextItNet) {
    const { kernelSize: k, dilations } = model.config;
    return 1 + dilations.reduce((sum, d) => sum + (k - 1) * (d + 2 * d), 0);
  }
  if (model instanceof AdaRecNet && model.config.genotype && !model.mix) {
    let R = 1;
    for (const cell of model.cells) {
      const s = cellSpan(cell);
      if (s === null) return null;
      R += s;
    }
    return R;
  }
  return null;
}
