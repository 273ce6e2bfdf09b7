// bench/teacher-epoch: one training epoch of NextItNet at the reference size (METHOD.md: hidden
// 256, 16 blocks, dilations 1/4) on MovieLens 100K (rating >= 3, 5-core, leave-one-out training
// sequences, length 50, batch 128), ours against the PyTorch model on the very same batches,
// batch by batch interleaved. Prints seconds per epoch for both and the ratio.
import { Rng, backendName, backward, optim, tidy } from '../src/engine/index.js';
import { NextItNet, NEXTITNET_REFERENCE } from '../src/models/nextitnet.js';
import { nextItemBatch } from '../src/data/batch.js';
import { TorchProcess } from './torch-process.js';
import { ml100kTrainingSequences } from './ml100k.js';

const B = 128, T = 50;
const { vocab, sequences, order } = ml100kTrainingSequences();
const model = new NextItNet({ vocabSize: vocab, ...NEXTITNET_REFERENCE }, new Rng(0));
const opt = new optim.Adam(model.parameters(), { lr: 1e-3, weightDecay: 1e-7 });
const torch = new TorchProcess();
const info = await torch.call<{ torch: string; threads: number }>({
  cmd: 'init', vocab, hidden: NEXTITNET_REFERENCE.hidden, dilations: NEXTITNET_REFERENCE.dilations, kernel: 3,
  residual: 'learned', batch: 1, length: T, threads: 1,
});
console.log(`teacher epoch: NextItNet hidden ${NEXTITNET_REFERENCE.hidden}, ${NEXTITNET_REFERENCE.dilations.length} blocks, vocab ${vocab}, ` +
  `${sequences.length} sequences in batches of ${B} x ${T}; adarec ${backendName()} vs torch ${info.torch} (${info.threads} thread)`);

let ours = 0, theirs = 0;
for (let epoch = 0; epoch < 2; epoch++) { // epoch 0 warms both up
  let o = 0, t = 0;
  for (let start = 0; start < order.length; start += B) {
    const batch = nextItemBatch(order.slice(start, start + B).map((i) => sequences[i]), T);
    const n = batch.inputs.shape[0];
    const t0 = performance.now();
    tidy(() => {
      const l = model.loss(batch.inputs, batch.targets);
      opt.zeroGrad(); backward(l); opt.step();
    });
    o += performance.now() - t0;
    const r = await torch.call<{ ms: number }>({ cmd: 'train_batch', batch: n, inputs: Array.from(batch.inputs.values), targets: Array.from(batch.targets.values) });
    t += r.ms;
    batch.inputs.dispose(); batch.targets.dispose();
  }
  console.log(`  epoch ${epoch + 1}${epoch === 0 ? ' (warm-up)' : ''}: adarec ${(o / 1000).toFixed(1)} s, torch ${(t / 1000).toFixed(1)} s`);
  ours = o; theirs = t;
}
torch.close();
console.log(`adarec: ${(ours / 1000).toFixed(2)} s/epoch (${(sequences.length / (ours / 1000)).toFixed(0)} sequences/s)`);
console.log(`torch:  ${(theirs / 1000).toFixed(2)} s/epoch (${(sequences.length / (theirs / 1000)).toFixed(0)} sequences/s)`);
console.log(`ratio: ${(ours / theirs).toFixed(3)}`);
