// bench/padding: what skipping padding saves on short-sequence data. Amazon Beauty (S3Rec's
// Beauty.txt, env BEAUTY; 8.9 items per user, inputs of 50), one training epoch of a teacher,
// batch by batch interleaved in one process:
//   before: every window left-padded to 50 and the output layer + softmax at all 50 positions;
//   after:  the batch cut to its longest window (transformers) and the output layer only at
//           positions with a target (models/next-item-model.ts targetLoss).
// Both compute the same loss and gradients (test/models.test.ts), so accuracy cannot differ;
// the bench also checks the losses agree. Prints seconds per epoch and `ratio: X` (after / before).
// --distill: a distillation step instead (the finetune of `adarec run`: a hidden-32 NextItNet
// student, this SASRec as the frozen teacher, CE + embedding + EMD hidden + logit KL): before,
// student and teacher logits at all 50 positions with the KL masked; after, at the target
// positions only (signals(ids, rows), Distiller.loss).
//
//   npm run bench:padding [-- --model sasrec|nextitnet] [--distill] [--batches N]
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { F, Rng, backendName, backward, noGrad, optim, tidy } from '../src/engine/index.js';
import { Distiller } from '../src/distill/distiller.js';
import { targetRows } from '../src/models/common.js';
import { nextItemBatch } from '../src/data/batch.js';
import { readLog } from '../src/data/read-log.js';
import { buildPrepared } from '../src/data/prepare.js';
import { NextItNet } from '../src/models/nextitnet.js';
import { SASRec } from '../src/models/sasrec.js';
import { trainingSequences } from '../src/train/trainer.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : fallback; };
const distill = args.includes('--distill');
const kind = arg('model', 'sasrec'), maxBatches = Number(arg('batches', 'Infinity'));
const path = process.env.BEAUTY ?? fileURLToPath(new URL('../../../shared/data/beauty-s3rec/Beauty.txt', import.meta.url));
if (!existsSync(path)) { console.error(`Amazon Beauty (S3Rec's Beauty.txt) not found at ${path} (set BEAUTY=path/to/Beauty.txt)`); process.exit(1); }

const T = 50, B = 128;
const { dataset, split } = buildPrepared(readLog(path, { kind: 'user-per-line' }), {
  duplicates: 'keep-all', bySession: false, split: { kind: 'leave-one-out' }, negatives: null, seed: 42,
});
const vocab = dataset.numItems + 1;
const windows = trainingSequences(split, T);
const order = Array.from(windows.keys());
new Rng(1).shuffle(order);
// the Beauty teacher of docs/RESULTS.md (SASRec) or a NextItNet of the same width; dropout off so
// that both paths see the same function and their losses can be compared
const model = kind === 'nextitnet'
  ? new NextItNet({ vocabSize: vocab, hidden: 64, dilations: [1, 2, 1, 2], kernelSize: 3, residual: 'learned' }, new Rng(0))
  : new SASRec({ vocabSize: vocab, maxLength: T, hidden: 64, heads: 2, blocks: 2, ffnMultiplier: 4, dropout: 0, residual: 'plain' }, new Rng(0));
const student = distill ? new NextItNet({ vocabSize: vocab, hidden: 32, dilations: [1, 2, 1, 2], kernelSize: 3, residual: 'learned' }, new Rng(5)) : null;
const distiller = student ? new Distiller(32, 64, 2, 2, {
  gamma: 0.5, beta: 0, mapping: 'emd', maskPads: true, temperature: 1,
  terms: { ce: true, embedding: true, hidden: true, logits: true, efficiency: false },
}, new Rng(6)) : null;
if (student) model.eval();
const trained = student ? [...student.parameters(), ...distiller!.parameters()] : model.parameters();
const opt = new optim.Adam(trained, { lr: 1e-3 });
const batches = Math.min(Math.ceil(order.length / B), maxBatches);
const positions = windows.reduce((s, w) => s + Math.min(T, w.length - 1), 0);
console.log(`padding${distill ? ' (distillation: a hidden-32 NextItNet student of this teacher)' : ''}: ${kind} hidden 64 on Beauty, vocab ${vocab}, ${windows.length} windows of <= ${T} (${(positions / windows.length).toFixed(1)} targets each on average), ` +
  `batch ${B}, ${batches} batches; ${backendName()}, one thread`);

let before = 0, after = 0, worst = 0;
for (let pass = 0; pass < 2; pass++) { // pass 0 warms up on 3 batches
  before = 0; after = 0;
  for (let b = 0; b < (pass === 0 ? 3 : batches); b++) {
    const seqs = order.slice(b * B, (b + 1) * B).map((i) => windows[i]);
    const step = (full: boolean): number => {
      const t0 = performance.now();
      const loss = tidy(() => {
        if (student) {
          const { inputs, targets } = nextItemBatch(seqs, T);
          const rows = full ? null : targetRows(targets).rows;
          const t = noGrad(() => model.signals(inputs, rows));
          const l = distiller!.loss(student.signals(inputs, rows), t, inputs, targets, null).loss;
          opt.zeroGrad(); backward(l);
          distiller!.discardStep();
          return l.item();
        }
        const batch = nextItemBatch(seqs, T, !full && model.leadingPaddingInert);
        const l = full ? F.crossEntropy(model.forward(batch.inputs), batch.targets, 0) : model.loss(batch.inputs, batch.targets, batch.positionOffset);
        opt.zeroGrad(); backward(l);
        return l.item();
      });
      const ms = performance.now() - t0;
      if (full) before += ms; else after += ms;
      return loss;
    };
    const a = step(b % 2 === 0), c = step(b % 2 !== 0); // alternate which path goes first
    worst = Math.max(worst, Math.abs(a - c) / Math.abs(a));
  }
}
const scale = Math.ceil(order.length / B) / batches;
console.log(`before (full windows, output layer at every position): ${(before * scale / 1000).toFixed(1)} s/epoch`);
console.log(`after (${distill ? 'logits and KL' : 'cut batches, output layer'} at targets only):     ${(after * scale / 1000).toFixed(1)} s/epoch`);
console.log(`largest relative loss difference between the paths: ${worst.toExponential(2)}`);
console.log(`ratio: ${(after / before).toFixed(3)}`);
