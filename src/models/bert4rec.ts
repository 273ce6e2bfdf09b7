// BERT4Rec (Sun et al. 2019): bidirectional blocks trained as a masked item model, then finetuned
// autoregressively with a causal mask (METHOD.md: the masked model distils badly).
import { F, Rng, Tensor, tensor } from '../engine/index.js';
import { TransformerRecommender, type TransformerRecommenderConfig } from './transformer-recommender.js';

export type BERT4RecConfig = TransformerRecommenderConfig;

export const BERT4REC_REFERENCE: Omit<BERT4RecConfig, 'vocabSize' | 'maxLength'> = {
  hidden: 128, heads: 4, blocks: 8, ffnMultiplier: 4, dropout: 0.2, residual: 'learned',
};

export interface MaskedBatch {
  inputs: Tensor;
  /** The original item at masked positions, 0 (ignored) elsewhere. */
  targets: Tensor;
}

export class BERT4Rec extends TransformerRecommender {
  /** The [MASK] token's id: one past the last item (not an output class). */
  readonly maskId: number;
  private isCausal = false;

  constructor(config: BERT4RecConfig, rng: Rng) {
    super(config, false, rng, 1);
    this.maskId = config.vocabSize;
  }

  /** Bidirectional (masked pre-training) or causal (autoregressive finetune, distillation, serving). */
  get causal(): boolean {
    return this.isCausal;
  }

  set causal(on: boolean) {
    this.isCausal = on;
    for (const b of this.blocks) b.causal = on;
  }

  /** Sets the drop probability of every dropout layer (embedding and blocks). */
  setDropout(p: number): void {
    this.drop.p = p;
    for (const b of this.blocks) b.drop.p = p;
  }

  /**
   * Masks each non-padding item with probability maskProb (at least one per sequence), as the
   * masked-item objective needs. Deterministic for a given rng state.
   */
  maskItems(sequences: Tensor, maskProb: number, rng: Rng): MaskedBatch {
    if (!(maskProb > 0 && maskProb <= 1)) throw new Error(`maskProb must be in (0, 1], got ${maskProb}`);
    const [B, T] = sequences.shape;
    const ids = sequences.values as Int32Array;
    const inputs = new Int32Array(ids), targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      let masked = 0, lastReal = -1;
      for (let t = 0; t < T; t++) {
        const i = b * T + t;
        if (ids[i] === 0) continue;
        lastReal = i;
        if (rng.uniform() < maskProb) { inputs[i] = this.maskId; targets[i] = ids[i]; masked++; }
      }
      if (masked === 0 && lastReal >= 0) { inputs[lastReal] = this.maskId; targets[lastReal] = ids[lastReal]; }
    }
    return { inputs: tensor(inputs, [B, T], 'int32'), targets: tensor(targets, [B, T], 'int32') };
  }

  /** Masked-item loss for a batch from maskItems (the output layer runs at the masked positions only). */
  maskedLoss(batch: MaskedBatch, positionOffset = 0): Tensor {
    return this.targetLoss(this.hidden(batch.inputs, positionOffset), batch.targets);
  }
}
