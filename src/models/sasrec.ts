// SASRec (Kang & McAuley 2018): causal self-attention over the item sequence.
import type { Rng } from '../engine/index.js';
import { TransformerRecommender, type TransformerRecommenderConfig } from './transformer-recommender.js';

export type SASRecConfig = TransformerRecommenderConfig;

/** METHOD.md's reference size (vocabSize and maxLength depend on the data). */
export const SASREC_REFERENCE: Omit<SASRecConfig, 'vocabSize' | 'maxLength'> = {
  hidden: 128, heads: 4, blocks: 8, ffnMultiplier: 4, dropout: 0.2, residual: 'learned',
};

export class SASRec extends TransformerRecommender {
  constructor(config: SASRecConfig, rng: Rng) {
    super(config, true, rng);
  }
}
