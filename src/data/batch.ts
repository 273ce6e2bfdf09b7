// Turning item sequences into autoregressive training batches: inputs are items[0..n-2], targets
// items[1..n-1], both left-padded with 0 to a fixed length (the last maxLen + 1 items are used).
import { Tensor, tensor } from '../engine/index.js';

export interface TrainingBatch {
  inputs: Tensor;
  targets: Tensor;
}

export function nextItemBatch(sequences: readonly Int32Array[], maxLen: number): TrainingBatch {
  const B = sequences.length;
  const inputs = new Int32Array(B * maxLen), targets = new Int32Array(B * maxLen);
  sequences.forEach((seq, b) => {
    const tail = seq.subarray(Math.max(0, seq.length - maxLen - 1));
    const n = tail.length - 1;
    for (let i = 0; i < n; i++) {
      inputs[b * maxLen + maxLen - n + i] = tail[i];
      targets[b * maxLen + maxLen - n + i] = tail[i + 1];
    }
  });
  return { inputs: tensor(inputs, [B, maxLen], 'int32'), targets: tensor(targets, [B, maxLen], 'int32') };
}
