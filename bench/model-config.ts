// The benchmark model of FINDINGS.md: NextItNet with 3,001 items, hidden 256, 8 residual blocks
// (16 causal convs, k=3, dilations 1/4 alternating), output at every position; and the ml-100k
// AdaRec student the inference benchmark serves.
import { Rng, backward, tensor, tidy, type Tensor } from '../src/engine/index.js';
import type { Optimizer } from '../src/engine/optim/index.js';
import type { NextItNetConfig } from '../src/models/nextitnet.js';

export const BENCH_MODEL: NextItNetConfig = {
  vocabSize: 3001, hidden: 256, dilations: [1, 4, 1, 4, 1, 4, 1, 4], kernelSize: 3, residual: 'plain',
};
export const BENCH_BATCH = 128;
export const BENCH_LENGTH = 50;

/** Random left-padded sequences like the torch script's make_batch (lengths 5..T+1). */
export function randomBatch(B: number, T: number, V: number, seed: number): { inputs: Tensor; targets: Tensor } {
  const rng = new Rng(seed);
  const inputs = new Int32Array(B * T), targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const n = 5 + rng.int(T - 3);
    const seq = new Int32Array(T + 1);
    for (let i = T + 1 - n; i <= T; i++) seq[i] = 1 + rng.int(V - 1);
    inputs.set(seq.subarray(0, T), b * T);
    targets.set(seq.subarray(1), b * T);
  }
  return { inputs: tensor(inputs, [B, T], 'int32'), targets: tensor(targets, [B, T], 'int32') };
}

export function torchInit(threads: number) {
  return {
    cmd: 'init', vocab: BENCH_MODEL.vocabSize, hidden: BENCH_MODEL.hidden, dilations: BENCH_MODEL.dilations,
    kernel: BENCH_MODEL.kernelSize, residual: BENCH_MODEL.residual, batch: BENCH_BATCH, length: BENCH_LENGTH, threads,
  };
}

/** The ml-100k student (docs/RESULTS.md): AdaRecNet hidden 64, window 50, 4 cells of 3 nodes with these edges in every cell. */
export const ML100K_STUDENT = {
  hidden: 64, maxLength: 50, cells: 4, nodes: 3,
  edges: ['none', 'none', 'none', 'causal_conv_3', 'none', 'none'],
};

/** One timed training step (loss, backward, optimizer step) of `model` on a fixed batch. */
export function timedStep(model: { loss(inputs: Tensor, targets: Tensor): Tensor }, opt: Optimizer, inputs: Tensor, targets: Tensor): { ms: number; loss: number } {
  const t = performance.now();
  const loss = tidy(() => {
    const l = model.loss(inputs, targets);
    opt.zeroGrad();
    backward(l);
    opt.step();
    return l.item();
  });
  return { ms: performance.now() - t, loss };
}
