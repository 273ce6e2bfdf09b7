// Helpers shared by the models.
import { F, Tensor, empty, isGradEnabled, noGrad, tensor, tidy } from '../engine/index.js';
import type { SequentialRecommender } from './types.js';

/** 1 where ids [B, T] hold an item, 0 at padding (id 0): the attention key mask. */
export function paddingMask(ids: Tensor): Tensor {
  const idv = ids.values;
  const out = empty(ids.shape);
  const ov = out.values;
  for (let i = 0; i < idv.length; i++) ov[i] = idv[i] === 0 ? 0 : 1;
  return out;
}

/**
 * Position ids [B, T]: offset..offset+T-1 in every row (left padding keeps the last item at T-1;
 * a crop of the last T positions of a longer window passes where the crop starts in it).
 */
export function positionIds(B: number, T: number, offset = 0): Tensor {
  const out = empty([B, T], 'int32');
  const ov = out.values;
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) ov[b * T + t] = offset + t;
  return out;
}

/**
 * Runs one layer. Without a tape nothing inside a layer is needed afterwards, so its temporaries
 * go back to the pool at once: inference holds about one layer of activations, not all of them.
 */
export function layer(fn: () => Tensor): Tensor {
  return isGradEnabled() ? fn() : tidy(fn);
}

/**
 * The positions of targets [B, T] that hold one (0 = none), as flat indices b * T + t in order
 * (int32 [n]), with their labels (int32 [n]): the rows distillation scores.
 */
export function targetRows(targets: Tensor): { rows: Tensor; labels: Tensor } {
  const tv = targets.values;
  let n = 0;
  for (let i = 0; i < tv.length; i++) if (tv[i] !== 0) n++;
  const rows = new Int32Array(n), labels = new Int32Array(n);
  for (let i = 0, j = 0; i < tv.length; i++) if (tv[i] !== 0) { rows[j] = i; labels[j++] = tv[i]; }
  return { rows: tensor(rows, [n], 'int32'), labels: tensor(labels, [n], 'int32') };
}

/** Rows [n, C] of x [B, T, C] at flat positions `rows` (int32 [n], b * T + t); x itself without rows. */
export function pickRows(x: Tensor, rows: Tensor | null | undefined): Tensor {
  if (!rows) return x;
  const [B, T, C] = x.shape;
  return F.embedding(F.reshape(x, [B * T, C]), rows);
}

/** How many intermediate representations a model hands to distillation (one forward of one short sequence). */
export function intermediateCount(model: SequentialRecommender, length: number): number {
  return noGrad(() => tidy(() => model.signals(tensor(new Int32Array(length).fill(1), [1, length], 'int32')).intermediates.length));
}
