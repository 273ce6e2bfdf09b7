// Turning item sequences into autoregressive training batches: inputs are items[0..n-2], targets
// items[1..n-1], both left-padded with 0 to a fixed length (the last maxLen + 1 items are used).
import { Tensor, tensor } from '../engine/index.js';

export interface TrainingBatch {
  inputs: Tensor;
  targets: Tensor;
  /** Positions cut from the front of the maxLen window (0 unless `cut`): the models' positionOffset. */
  positionOffset: number;
}

/**
 * `cut`: pad only to the batch's longest input rather than maxLen (for models whose leading
 * padding is inert: the positions cut off are padding in every row).
 */
export function nextItemBatch(sequences: readonly Int32Array[], maxLength: number, cut = false): TrainingBatch {
  const B = sequences.length;
  let maxLen = maxLength;
  if (cut) maxLen = Math.max(1, Math.min(maxLength, Math.max(...sequences.map((s) => s.length - 1))));
  const inputs = new Int32Array(B * maxLen), targets = new Int32Array(B * maxLen);
  sequences.forEach((seq, b) => {
    const tail = seq.subarray(Math.max(0, seq.length - maxLen - 1));
    const n = tail.length - 1;
    for (let i = 0; i < n; i++) {
      inputs[b * maxLen + maxLen - n + i] = tail[i];
      targets[b * maxLen + maxLen - n + i] = tail[i + 1];
    }
  });
  return { inputs: tensor(inputs, [B, maxLen], 'int32'), targets: tensor(targets, [B, maxLen], 'int32'), positionOffset: maxLength - maxLen };
}
