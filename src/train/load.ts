// A trained model back from a checkpoint, for evaluation, serving or distillation.
import { Rng } from '../engine/index.js';
import { BERT4Rec } from '../models/bert4rec.js';
import type { SequentialRecommender } from '../models/types.js';
import { readCheckpoint, restoreCheckpoint } from './checkpoint.js';
import { buildModel, type TrainConfig } from './config.js';

export interface TrainedModel {
  model: SequentialRecommender;
  config: TrainConfig;
  vocabSize: number;
  /** Epochs completed when the checkpoint was written. */
  epoch: number;
  /** The data the model was trained on (compare with the data you evaluate it on). */
  manifestHash: string;
}

/** The model in a checkpoint (e.g. <run>/best.ckpt), in eval mode; BERT4Rec in the attention mode it was saved in. */
export function loadTrainedModel(path: string): TrainedModel {
  const ckpt = readCheckpoint(path);
  const { config, vocabSize, manifestHash } = ckpt.meta;
  const model = buildModel(config, vocabSize, new Rng(config.seed));
  restoreCheckpoint(ckpt, path, { model });
  if (model instanceof BERT4Rec) model.causal = ckpt.meta.causal ?? true;
  model.eval();
  return { model, config, vocabSize, epoch: ckpt.meta.progress.epoch, manifestHash };
}
