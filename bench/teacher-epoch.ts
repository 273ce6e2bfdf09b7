// bench/teacher-epoch: a training epoch of a teacher, ours against the PyTorch model of the same
// architecture (bench/torch_reference.py) on the very same batches, batch by batch interleaved,
// one thread each. Prints seconds per epoch for both, peak RSS, for the transformers the time of a
// full-ranking validation pass over ML-1M's 6,040 users as a share of the epoch, and
// `ratio: X` (ours / torch) last.
//
//   npm run bench:teacher-epoch                                   # NextItNet, METHOD.md size, ML-100K
//   npm run bench:teacher-epoch -- --model sasrec [--size method|benchmark] [--batches N]
//   npm run bench:teacher-epoch -- --model bert4rec [--size method|benchmark] [--batches N]
//
// NextItNet: hidden 256, 16 blocks (dilations 1/4) on MovieLens 100K (rating >= 3, 5-core,
// leave-one-out training sequences, length 50, batch 128). SASRec / BERT4Rec: MovieLens-1M
// (../shared/data/ml-1m-sasrec/ml-1m.txt, env ML1M) training windows of 200, batch 128, at
// METHOD.md's size (`method`: hidden 128, 4 heads, 8 blocks, FFN x4) or the standard benchmarks'
// (`benchmark`: SASRec's paper, hidden 50, 1 head, 2 blocks, FFN x1). BERT4Rec times its masked
// pre-training step (20% of the items masked; both sides get the same masked batch). Both run the
// output layer at target positions only. `--batches N` times the first N batches of the epoch
// (after one warm-up batch) and scales to the whole epoch.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Rng, backendName, backward, optim, tensor, tidy, type Tensor } from '../src/engine/index.js';
import { NextItNet, NEXTITNET_REFERENCE } from '../src/models/nextitnet.js';
import { SASRec } from '../src/models/sasrec.js';
import { BERT4Rec } from '../src/models/bert4rec.js';
import type { TransformerRecommenderConfig } from '../src/models/transformer-recommender.js';
import { nextItemBatch } from '../src/data/batch.js';
import { readLog } from '../src/data/read-log.js';
import { buildPrepared } from '../src/data/prepare.js';
import { modelScorer, padBatch } from '../src/eval/scorer.js';
import { evaluate } from '../src/eval/evaluate.js';
import type { EvalExamples } from '../src/data/types.js';
import { trainingSequences } from '../src/train/trainer.js';
import { TorchProcess, torchMissing } from './torch-process.js';
import { ml100kTrainingSequences } from './ml100k.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : fallback; };
const kind = arg('model', 'nextitnet');
const size = arg('size', 'method');
const maxBatches = Number(arg('batches', 'Infinity'));
if (!['nextitnet', 'sasrec', 'bert4rec'].includes(kind)) { console.error(`--model: nextitnet, sasrec or bert4rec, not '${kind}'`); process.exit(1); }
if (!['method', 'benchmark'].includes(size)) { console.error(`--size: method or benchmark, not '${size}'`); process.exit(1); }

const B = 128;
const TRANSFORMER_SIZES: Record<string, Omit<TransformerRecommenderConfig, 'vocabSize' | 'maxLength'>> = {
  method: { hidden: 128, heads: 4, blocks: 8, ffnMultiplier: 4, dropout: 0.2, residual: 'learned' },
  benchmark: { hidden: 50, heads: 1, blocks: 2, ffnMultiplier: 1, dropout: 0.2, residual: 'plain' },
};

function ml1mWindows(T: number): { vocab: number; sequences: Int32Array[]; order: number[]; validation: EvalExamples } {
  const path = process.env.ML1M ?? fileURLToPath(new URL('../../../shared/data/ml-1m-sasrec/ml-1m.txt', import.meta.url));
  const missing = torchMissing();
  if (missing) { console.error(missing); process.exit(1); }
  if (!existsSync(path)) { console.error(`MovieLens-1M (SASRec's ml-1m.txt) not found at ${path} (set ML1M=path/to/ml-1m.txt)`); process.exit(1); }
  const { dataset, split } = buildPrepared(readLog(path, { kind: 'pairs' }), {
    duplicates: 'keep-all', bySession: false, split: { kind: 'leave-one-out' }, negatives: null, seed: 42,
  });
  const sequences = trainingSequences(split, T);
  const order = Array.from(sequences.keys());
  new Rng(1).shuffle(order);
  return { vocab: dataset.numItems + 1, sequences, order, validation: split.valid };
}

const T = kind === 'nextitnet' ? 50 : 200;
const { vocab, sequences, order, validation } = kind === 'nextitnet' ? { ...ml100kTrainingSequences(), validation: null } : ml1mWindows(T);
const shape = kind === 'nextitnet' ? null : TRANSFORMER_SIZES[size];
const model = kind === 'nextitnet' ? new NextItNet({ vocabSize: vocab, ...NEXTITNET_REFERENCE }, new Rng(0))
  : kind === 'sasrec' ? new SASRec({ vocabSize: vocab, maxLength: T, ...shape! }, new Rng(0))
    : new BERT4Rec({ vocabSize: vocab, maxLength: T, ...shape! }, new Rng(0));
const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
const torch = new TorchProcess();
const info = await torch.call<{ torch: string; threads: number }>(kind === 'nextitnet'
  ? { cmd: 'init', vocab, hidden: NEXTITNET_REFERENCE.hidden, dilations: NEXTITNET_REFERENCE.dilations, kernel: 3, residual: 'learned', batch: 1, length: T, threads: 1 }
  : { cmd: 'init', model: kind, vocab, ...shape, batch: 1, length: T, threads: 1 });
const what = kind === 'nextitnet' ? `NextItNet hidden ${NEXTITNET_REFERENCE.hidden}, ${NEXTITNET_REFERENCE.dilations.length} blocks`
  : `${kind === 'sasrec' ? 'SASRec' : 'BERT4Rec (masked pre-training)'} ${size} size: hidden ${shape!.hidden}, ${shape!.heads} heads, ${shape!.blocks} blocks, FFN x${shape!.ffnMultiplier}`;
const batches = Math.ceil(order.length / B), timed = Math.min(batches, maxBatches);
console.log(`teacher epoch: ${what}, vocab ${vocab}, ${sequences.length} sequences in batches of ${B} x ${T}` +
  `${timed < batches ? ` (timing ${timed} of ${batches} batches, scaled to the epoch)` : ''}; adarec ${backendName()} vs torch ${info.torch} (${info.threads} thread)`);

const maskRng = new Rng(3);
/** One training batch, in our tensors and as the arrays torch is sent. */
function makeBatch(seqs: Int32Array[]): { inputs: Tensor; targets: Tensor; positionOffset: number; masked: boolean } {
  if (kind !== 'bert4rec') return { ...nextItemBatch(seqs, T, kind === 'sasrec'), masked: false };
  const bert = model as BERT4Rec;
  const m = bert.maskItems(tensor(padBatch(seqs, T), [seqs.length, T], 'int32'), 0.2, maskRng);
  return { inputs: m.inputs, targets: m.targets, positionOffset: 0, masked: true };
}

let ours = 0, theirs = 0;
for (let epoch = 0; epoch < 2; epoch++) { // epoch 0 warms both up (with --batches: one batch)
  let o = 0, t = 0;
  // the warm-up runs the whole epoch, or with --batches the epoch's last batch only
  const first = epoch === 0 && timed < batches ? batches - 1 : 0, end = epoch === 0 ? batches : timed;
  for (let b = first; b < end; b++) {
    const batch = makeBatch(order.slice(b * B, (b + 1) * B).map((i) => sequences[i]));
    const n = batch.inputs.shape[0];
    const t0 = performance.now();
    tidy(() => {
      const l = batch.masked ? (model as BERT4Rec).maskedLoss({ inputs: batch.inputs, targets: batch.targets })
        : model.loss(batch.inputs, batch.targets, batch.positionOffset);
      opt.zeroGrad(); backward(l); opt.step();
    });
    o += performance.now() - t0;
    const r = await torch.call<{ ms: number }>({ cmd: 'train_batch', batch: n, inputs: Array.from(batch.inputs.values), targets: Array.from(batch.targets.values) });
    t += r.ms;
    batch.inputs.dispose(); batch.targets.dispose();
  }
  const scale = epoch === 1 ? batches / timed : 1;
  console.log(`  epoch ${epoch + 1}${epoch === 0 ? ' (warm-up)' : ''}: adarec ${(o * scale / 1000).toFixed(1)} s, torch ${(t * scale / 1000).toFixed(1)} s`);
  ours = o * scale; theirs = t * scale;
}
const torchRss = (await torch.call<{ maxrss_mb: number }>({ cmd: 'stats' })).maxrss_mb;
torch.close();
const ourRss = process.resourceUsage().maxRSS / 1024; // before the evaluation below: training's peak, as torch's
// evaluation computes only what it scores: one full-ranking validation pass over every user
// (last position only, batches of similar length cut to their longest input), against the epoch
let evalSeconds: number | null = null;
if (validation) {
  if (model instanceof BERT4Rec) model.causal = true; // as after its finetune: scored causally
  const t0 = performance.now();
  evaluate(modelScorer(model, T), validation, { protocol: 'full', batchSize: 256 });
  evalSeconds = (performance.now() - t0) / 1000;
}

console.log(`adarec: ${(ours / 1000).toFixed(2)} s/epoch (${(sequences.length / (ours / 1000)).toFixed(0)} sequences/s), peak RSS ${ourRss.toFixed(0)} MB`);
console.log(`torch:  ${(theirs / 1000).toFixed(2)} s/epoch (${(sequences.length / (theirs / 1000)).toFixed(0)} sequences/s), peak RSS ${torchRss.toFixed(0)} MB`);
if (evalSeconds !== null) console.log(`full-ranking validation of ${validation!.targets.length} users: ${evalSeconds.toFixed(2)} s = ` +
  `${(100 * evalSeconds / (ours / 1000)).toFixed(1)}% of the training epoch (target <= 10%)`);
console.log(`rss ratio: ${(ourRss / torchRss).toFixed(3)}`);
console.log(`ratio: ${(ours / theirs).toFixed(3)}`);
