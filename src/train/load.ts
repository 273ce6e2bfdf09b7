// A trained model back from a checkpoint, for evaluation, serving or distillation.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../engine/index.js';
import { DataError } from '../data/errors.js';
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
  try {
    restoreCheckpoint(ckpt, path, { model });
  } catch (e) {
    model.dispose();
    throw e;
  }
  if (model instanceof BERT4Rec) model.causal = ckpt.meta.causal ?? true;
  model.eval();
  return { model, config, vocabSize, epoch: ckpt.meta.progress.epoch, manifestHash };
}

/** The checkpoint a run folder (or a .ckpt path) designates. */
export function resolveCheckpoint(path: string, which: 'best' | 'last' = 'best'): string {
  if (!existsSync(path)) throw new DataError(path, 'no such run folder or checkpoint');
  if (statSync(path).isDirectory()) {
    const ckpt = join(path, `${which}.ckpt`);
    if (!existsSync(ckpt)) throw new DataError(path, `no ${which}.ckpt in this folder (is it a run folder written by adarec train or adarec run?)`);
    return ckpt;
  }
  return path;
}
