// Anything that scores all items for a batch of input sequences: neural models and baselines.
import { noGrad, tensor, tidy } from '../engine/index.js';
import type { SequentialRecommender } from '../models/types.js';

export interface Scorer {
  readonly name: string;
  /** Scores [inputs.length * vocabSize], row-major; item 0 (padding) is ignored by the metrics. */
  score(inputs: readonly Int32Array[]): Float32Array;
  readonly vocabSize: number;
}

/** Left-pads (or truncates to the most recent) each input to maxLen as one int32 batch. */
export function padBatch(inputs: readonly Int32Array[], maxLen: number): Int32Array {
  const out = new Int32Array(inputs.length * maxLen);
  inputs.forEach((seq, b) => {
    const tail = seq.subarray(Math.max(0, seq.length - maxLen));
    out.set(tail, b * maxLen + maxLen - tail.length);
  });
  return out;
}

/**
 * A model scored at the last position only, in eval mode, without recording gradients. A model
 * whose leading padding is inert (transformers) gets the batch cut to its longest input, so short
 * histories cost what they hold, not maxLen (evaluate() batches inputs of similar length).
 */
export function modelScorer(model: SequentialRecommender, maxLen: number, name = model.constructor.name): Scorer {
  return {
    name,
    vocabSize: model.vocabSize,
    score(inputs) {
      const wasTraining = model.training;
      model.eval();
      try {
        return noGrad(() => tidy(() => {
          const T = model.leadingPaddingInert ? Math.max(1, Math.min(maxLen, Math.max(...inputs.map((s) => s.length)))) : maxLen;
          const ids = tensor(padBatch(inputs, T), [inputs.length, T], 'int32');
          return Float32Array.from(model.scoreLast(ids, maxLen - T).values);
        }));
      } finally {
        model.train(wasTraining);
      }
    },
  };
}
