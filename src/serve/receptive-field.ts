// The receptive field of a causal convolutional model: how many of a window's last positions its
// last-position output depends on. A causal conv of kernel k and dilation d looks (k-1)*d
// positions back, a causal pool k-1, skip and none 0; a NextItNet block chains two convs, an
// AdaRec cell the longest path through its edges. Null when the model is not such a stack
// (attention, a supernet, an operator that looks ahead).
import { NextItNet } from '../models/nextitnet.js';
import type { SequentialRecommender } from '../models/types.js';
import type { Cell } from '../models/adarec/cell.js';
import { AdaRecNet } from '../models/adarec/network.js';
import { cellSpanOf, operatorSpan } from '../models/adarec/genotype.js';

export { operatorSpan };

/** Positions before t that a student cell's output at t reads (its longest path), or null. */
export function cellSpan(cell: Cell): number | null {
  return cellSpanOf(cell.nodes, cell.edges.map((_, e) => {
    const chosen = cell.chosen(e);
    return chosen ? operatorSpan(chosen.spec) : undefined;
  }));
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
