// Exact last-position scoring of padded windows over the receptive field only. A causal
// conv/pool stack's last output depends on the window's last R positions, so scoring the crop of
// those R positions (AdaRec's position ids kept at W-R..W-1) gives the same logits as the whole
// window: every layer still computes every position of the crop, and the positions whose values
// differ (those near the crop start, which miss their left context) are never read by the last
// one. Other models, models in training mode (batch statistics, dropout) and windows no longer
// than R are scored by model.scoreLast (or, for the hidden state, model.lastHidden).
import { F, type Tensor } from '../engine/index.js';
import type { SequentialRecommender } from '../models/types.js';
import { NextItemModel } from '../models/next-item-model.js';
import { AdaRecNet } from '../models/adarec/network.js';
import { receptiveField } from './receptive-field.js';
import type { LastPositionScorer } from './types.js';

/** A LastPositionScorer for `model` giving model.scoreLast's logits, as cheaply as its structure allows. */
export function fastScorer(model: SequentialRecommender): LastPositionScorer {
  const R = receptiveField(model);
  if (R === null) return (ids) => model.scoreLast(ids);
  return (ids: Tensor) => (model.training ? model.scoreLast(ids) : scoreCropped(model, ids, R));
}

/** Last-position hidden states [B, hidden] of windows ids [B, T] (model.lastHidden's), as cheaply as fastScorer's logits. */
export function fastHidden(model: NextItemModel): LastPositionScorer {
  const R = receptiveField(model);
  return (ids: Tensor) => (R === null || model.training ? model.lastHidden(ids) : hiddenCropped(model, ids, R));
}

/**
 * Last-position logits of windows ids [B, T] computed over their last R positions only (the
 * whole window when R >= T): exact when R is at least the model's receptive field. The operator
 * profiler times the crops of every length through this function (profile-ops.ts).
 */
export function scoreCropped(model: SequentialRecommender, ids: Tensor, R: number): Tensor {
  if (R >= ids.shape[1] || !(model instanceof NextItemModel)) return model.scoreLast(ids);
  return model.output.forward(hiddenCropped(model, ids, R));
}

function hiddenCropped(model: NextItemModel, ids: Tensor, R: number): Tensor {
  const T = ids.shape[1];
  if (R >= T) return model.lastHidden(ids);
  const crop = F.contiguous(F.narrow(ids, 1, T - R, R));
  return model.lastHidden(crop, model instanceof AdaRecNet ? T - R : 0);
}
